"""Real-browser fixtures: a Streamlit server started like `make run`, and Debian's Chromium via Playwright."""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

import pytest

from tests.support import CHROME_ARGS, CHROMIUM, kill_group, start_streamlit, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "results" / "dashboard.json"


@contextlib.contextmanager
def serve(base: Path):
    """``streamlit run dashboard/app.py`` on a free port with its workspace and model registry in ``base``."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)")
    env = dict(os.environ, DEEPDIFE_WORKSPACE=str(base / "workspace"), DEEPDIFE_MODELS=str(base / "models"))
    proc, url, log = start_streamlit(base, env)
    if not wait_healthy(url, proc, seconds=60) and proc.poll() is None:
        kill_group(proc.pid, wait_s=5.0)
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
            kill_group(int(pid), wait_s=5.0)
    kill_group(proc.pid, wait_s=5.0)
    log.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory):
    """The server the real-browser tests share (one per test session)."""
    with serve(tmp_path_factory.mktemp("e2e")) as info:
        yield info


@pytest.fixture
def fresh_server(tmp_path_factory: pytest.TempPathFactory):
    """A server of one test's own, with an empty workspace (no state left by the tests before it)."""
    with serve(tmp_path_factory.mktemp("e2e-own")) as info:
        yield info


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
