"""Issue 19 point 7: the launcher sets the address and turns usage statistics off whatever the folder."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAUNCH = ROOT / "dashboard" / "launch.py"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DEEPDIFE_HOST", "DEEPDIFE_PORT")}
    return {**env, **extra}


def _dry(cwd: Path, *args: str, **env: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, str(LAUNCH), "--dry-run", *args],
        cwd=cwd,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return shlex.split(out.stdout)


def _opt(cmd: list[str], name: str) -> str:
    return cmd[cmd.index(f"--{name}") + 1]


def test_launcher_binds_localhost_without_telemetry_from_any_folder(tmp_path):
    (tmp_path / ".streamlit").mkdir()  # a hostile config in the current folder changes nothing that matters
    (tmp_path / ".streamlit" / "config.toml").write_text(
        '[server]\naddress = "0.0.0.0"\n[browser]\ngatherUsageStats = true\n'
    )
    cmd = _dry(tmp_path)
    assert cmd[1:5] == ["-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py")]
    assert _opt(cmd, "server.address") == "127.0.0.1"
    assert _opt(cmd, "browser.gatherUsageStats") == "false"
    assert _opt(cmd, "server.maxUploadSize") == "200"  # the repository's config.toml, as flags
    assert _opt(cmd, "client.showErrorDetails") == "none"
    assert _opt(cmd, "server.headless") == "true"


def test_launcher_takes_the_address_only_when_asked(tmp_path):
    assert _opt(_dry(tmp_path, **{"DEEPDIFE_HOST": "0.0.0.0"}), "server.address") == "0.0.0.0"
    cmd = _dry(tmp_path, "--host", "10.0.0.5", "--port", "8611")
    assert _opt(cmd, "server.address") == "10.0.0.5" and _opt(cmd, "server.port") == "8611"
    # telemetry stays off whatever is asked
    assert _opt(_dry(tmp_path, **{"DEEPDIFE_HOST": "0.0.0.0"}), "browser.gatherUsageStats") == "false"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of LISTEN sockets on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            local, state = row.split()[1], row.split()[3]
            addr, hexport = local.rsplit(":", 1)
            if state == "0A" and int(hexport, 16) == port:
                found.add(addr)
    return found


@pytest.mark.slow
def test_a_server_started_elsewhere_listens_on_localhost_only(tmp_path):
    port = _free_port()
    env = _env(DEEPDIFE_WORKSPACE=str(tmp_path / "ws"), DEEPDIFE_MODELS=str(tmp_path / "models"))
    proc = subprocess.Popen(
        [sys.executable, str(LAUNCH), "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("the dashboard did not start")
        # 127.0.0.1 in /proc/net/tcp is 0100007F; 0.0.0.0 (all interfaces) would be 00000000
        assert _listening_addresses(port) == {"0100007F"}
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
