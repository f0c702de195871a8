"""Support shared by the real-browser tests and the load benchmark: Chromium, a Streamlit server like ``make run``.

Used by ``tests/e2e/conftest.py`` and ``bench/bench_load.py`` (which puts the repository
root on ``sys.path``).  No pytest here: failures are reported by the callers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROME_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kill_group(pid: int, *, wait_s: float = 0.0) -> None:
    """SIGTERM the process group ``pid``; with ``wait_s``, wait that long for it to end, then SIGKILL it."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    if wait_s <= 0:
        return
    for _ in range(round(wait_s / 0.1)):
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def start_streamlit(base: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str, IO[bytes]]:
    """``streamlit run dashboard/app.py`` on a free port in its own process group, logging to ``base/server.log``.

    Returns the process, its URL and the open log file (the caller closes it after the server ends).
    """
    port = free_port()
    log = open(base / "server.log", "wb")  # noqa: SIM115 - the server owns it until killed; the caller closes it
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "dashboard/app.py",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return proc, f"http://127.0.0.1:{port}", log


def wait_healthy(
    url: str, proc: subprocess.Popen | None = None, *, seconds: float | None = None, tries: int | None = None
) -> bool:
    """Poll ``url/_stcore/health`` until it answers 200 (True).

    False when ``seconds`` have passed, after ``tries`` polls, or (with ``proc``) once the server exited.
    """
    deadline = None if seconds is None else time.time() + seconds
    n = 0
    while (deadline is None or time.time() < deadline) and (tries is None or n < tries):
        n += 1
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
        if proc is not None and proc.poll() is not None:
            return False
    return False
