"""Real-browser fixtures: a Streamlit server started like `make run`, and Debian's Chromium via Playwright."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.support import CHROME_ARGS, CHROMIUM, kill_group, start_streamlit, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "results" / "dashboard.json"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory):
    """``streamlit run dashboard/app.py`` on a free port with a temp workspace and model registry."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)")
    base = tmp_path_factory.mktemp("e2e")
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
