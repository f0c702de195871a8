"""`make bench`: run every benchmark script in bench/ (bench_*.py) and collect the JSON results."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    only = set(sys.argv[1:])
    results = {}
    for script in sorted(HERE.glob("bench_*.py")):
        name = script.stem.removeprefix("bench_")
        if only and name not in only:
            continue
        print(f"== {name}", flush=True)
        module = runpy.run_path(str(script), run_name="bench")
        results[name] = module["main"]()
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "all.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
