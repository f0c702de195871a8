"""Fuzz benchmark: >= 1,000 generated inputs per parser, outcomes counted.

Runs the strategies and checks of ``tests/core/test_fuzz.py`` (the same code
``make test`` runs on a few dozen examples each) with hypothesis on at least
``DEEPDIFE_FUZZ_N`` (default 1,000) inputs per parser, and writes
``bench/results/fuzz.json``: for every parser how many inputs were tried, how
many ended in a valid result, how many in a clear ``DeepDifEInputError``, and how
many in anything else (contract violations and other exceptions: the target is 0;
the first few are recorded with their input).
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from types import ModuleType

from _report import write_result

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "fuzz.json"
TARGET = int(os.environ.get("DEEPDIFE_FUZZ_N", "1000"))
SEED = int(os.environ.get("DEEPDIFE_FUZZ_SEED", "20250801"))


def load_cases() -> ModuleType:
    """``tests/core/test_fuzz.py`` as a module (its CASES registry and checks)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    spec = importlib.util.spec_from_file_location("deepdife_fuzz_cases", ROOT / "tests" / "core" / "test_fuzz.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fuzz_one(strategy, check, *, target: int, seed: int) -> dict:
    """Run ``check`` on at least ``target`` inputs drawn from ``strategy``; count the outcomes."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as with_seed

    counts: Counter[str] = Counter()
    failures: list[dict] = []

    def body(x) -> None:
        try:
            counts[check(x)] += 1
        except AssertionError as exc:  # the contract was violated (wrong result, unclear message, partial file)
            counts["contract_violation"] += 1
            _record(failures, exc, x)
        except Exception as exc:  # any exception other than DeepDifEInputError is a bug
            counts["other_exception"] += 1
            _record(failures, exc, x)

    t0 = time.perf_counter()
    rounds = 0
    while sum(counts.values()) < target and rounds < 10:
        left = target - sum(counts.values())
        run = settings(
            max_examples=left,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )(given(strategy)(body))
        with_seed(seed + rounds)(run)()
        rounds += 1
    return {
        "tried": sum(counts.values()),
        "valid_result": counts["valid"],
        "clean_error": counts["error"],
        "contract_violation": counts["contract_violation"],
        "other_exception": counts["other_exception"],
        "seconds": round(time.perf_counter() - t0, 2),
        "failures": failures,
    }


def _record(failures: list[dict], exc: BaseException, x) -> None:
    if len(failures) < 5:
        tb = traceback.extract_tb(exc.__traceback__)
        failures.append(
            {
                "type": type(exc).__name__,
                "message": str(exc)[:300],
                "where": f"{tb[-1].filename}:{tb[-1].lineno}" if tb else "",
                "input": repr(x)[:400],
            }
        )


def main() -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    cases = load_cases()
    only = {s for s in os.environ.get("DEEPDIFE_FUZZ_ONLY", "").split(",") if s}
    parsers = {}
    for i, (name, (strategy, check)) in enumerate(cases.CASES.items()):
        if only and name not in only:
            continue
        parsers[name] = fuzz_one(strategy, check, target=TARGET, seed=SEED + 1000 * i)
        p = parsers[name]
        print(
            f"  {name:15s} tried {p['tried']:5d}  valid {p['valid_result']:5d}  clean error {p['clean_error']:5d}  "
            f"other {p['contract_violation'] + p['other_exception']}  ({p['seconds']} s)",
            flush=True,
        )
    bad = sum(p["contract_violation"] + p["other_exception"] for p in parsers.values())
    result = {
        "target_per_parser": TARGET,
        "seed": SEED,
        "parsers": parsers,
        "total_tried": sum(p["tried"] for p in parsers.values()),
        "total_other": bad,
        "ok": bad == 0 and all(p["tried"] >= TARGET for p in parsers.values()),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }
    return write_result(OUT, result, echo=False)


if __name__ == "__main__":
    res = main()
    sys.exit(0 if res["ok"] else 1)
