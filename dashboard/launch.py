"""Start the dashboard with DeepDifE's server settings, whatever the current folder (``make run``).

``python -m dashboard.launch [--host H] [--port P] [--dry-run]`` (or ``python /path/to/dashboard/launch.py``)
runs ``streamlit run <repo>/dashboard/app.py`` with every option of the repository's
``.streamlit/config.toml`` given as a command-line flag.  Streamlit reads ``config.toml`` only from
the current folder (and ``~/.streamlit``), so a plain ``streamlit run`` started elsewhere would bind
all interfaces and send usage statistics; through this launcher the address is 127.0.0.1 unless
``--host`` / ``DEEPDIFE_HOST`` says otherwise, and usage statistics are always off.  The workspace
(``DEEPDIFE_WORKSPACE``, default ``./workspace``) still follows the current folder.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboard" / "app.py"
CONFIG = ROOT / ".streamlit" / "config.toml"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501
#: set whatever config.toml says (privacy and safety, not preferences)
FORCED = {"browser.gatherUsageStats": False, "server.headless": True}


def _flag_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def server_options(host: str | None = None, port: int | None = None) -> dict[str, object]:
    """The Streamlit options the dashboard runs with: ``config.toml``'s, then the address and port
    (``host`` / ``$DEEPDIFE_HOST`` / 127.0.0.1, ``port`` / ``$DEEPDIFE_PORT`` / 8501), then :data:`FORCED`."""
    options: dict[str, object] = {}
    if CONFIG.is_file():
        for section, values in tomllib.loads(CONFIG.read_text()).items():
            if isinstance(values, dict):
                options.update({f"{section}.{key}": value for key, value in values.items()})
    options["server.address"] = host or os.environ.get("DEEPDIFE_HOST") or DEFAULT_HOST
    options["server.port"] = int(port or os.environ.get("DEEPDIFE_PORT") or DEFAULT_PORT)
    options.update(FORCED)
    return options


def command(host: str | None = None, port: int | None = None) -> list[str]:
    """``python -m streamlit run <repo>/dashboard/app.py --section.key value ...``."""
    flags = [x for key, value in server_options(host, port).items() for x in (f"--{key}", _flag_value(value))]
    return [sys.executable, "-m", "streamlit", "run", str(APP), *flags]


def main(argv: list[str] | None = None) -> int:
    """Parse ``--host/--port/--dry-run`` and run the server (or print its command line)."""
    p = argparse.ArgumentParser(prog="python -m dashboard.launch", description=__doc__.splitlines()[0])
    p.add_argument("--host", help=f"address to bind (default $DEEPDIFE_HOST or {DEFAULT_HOST})")
    p.add_argument("--port", type=int, help=f"port (default $DEEPDIFE_PORT or {DEFAULT_PORT})")
    p.add_argument("--dry-run", action="store_true", help="print the command instead of running it")
    args = p.parse_args(argv)
    cmd = command(args.host, args.port)
    if args.dry_run:
        print(shlex.join(cmd))
        return 0
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
