"""Real-browser fixtures: a Streamlit server started like `make run`, and Debian's Chromium via Playwright."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
BENCH = ROOT / "bench" / "results" / "dashboard.json"
CHROME_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    for _ in range(50):
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory):
    """``streamlit run dashboard/app.py`` on a free port with a temp workspace and model registry."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)")
    base = tmp_path_factory.mktemp("e2e")
    env = dict(os.environ, DEEPDIFE_WORKSPACE=str(base / "workspace"), DEEPDIFE_MODELS=str(base / "models"))
    port = _free_port()
    log = open(base / "server.log", "wb")  # noqa: SIM115 - closed in teardown
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
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
        if proc.poll() is not None:
            break
    else:
        _kill_group(proc.pid)
        pytest.fail("the Streamlit server did not start:\n" + (base / "server.log").read_text()[-3000:])
    if proc.poll() is not None:
        pytest.fail("the Streamlit server exited:\n" + (base / "server.log").read_text()[-3000:])
    yield {"url": url, "base": base, "workspace": base / "workspace", "models": base / "models"}
    # teardown: training jobs run in their own sessions; stop them, then the server
    for job in (base / "workspace" / "jobs").glob("*/job.json"):
        try:
            pid = json.loads(job.read_text()).get("pid")
        except ValueError:
            pid = None
        if pid:
            _kill_group(int(pid))
    _kill_group(proc.pid)
    log.close()


@pytest.fixture(scope="session")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROME_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="session")
def timings():
    """Dict of measured seconds, written to bench/results/dashboard.json at the end of the session."""
    TIMINGS: dict[str, float] = {}
    yield TIMINGS
    if TIMINGS:
        BENCH.parent.mkdir(parents=True, exist_ok=True)
        old = {}
        if BENCH.exists():
            try:
                old = json.loads(BENCH.read_text())
            except ValueError:
                old = {}
        old.update({k: round(v, 3) for k, v in TIMINGS.items()})
        old["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        old["cpus"] = os.cpu_count()
        BENCH.write_text(json.dumps(old, indent=2) + "\n")
