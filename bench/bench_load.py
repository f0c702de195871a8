"""Load test (issue 8): five browser sessions on the Saliency page while a training job runs.

A real ``streamlit run dashboard/app.py`` server (as ``make run``) with the demo
dataset and model in a temporary workspace whose attribution cache holds all
2,000 demo genes (DeepSHAP, filled with ``deepdife explain --cache``).  A
training job on the demo data runs in the background the whole time.  Five
Chromium sessions (Playwright, headless, concurrently) each open genes through
the Saliency page's deep link and wait for the attribution track to be drawn.

Writes ``bench/results/load.json``: p50 / p95 / max seconds from navigation to a
rendered track, errors seen (exceptions, apologies, tracebacks in the server
log), and the server's resident memory (current and peak, target < 2 GB).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:  # `dashboard` and `tests.support` are imported from the checkout
    sys.path.insert(0, str(ROOT))

from tests.support import CHROME_ARGS, CHROMIUM, kill_group, start_streamlit, wait_healthy  # noqa: E402

OUT = HERE / "results" / "load.json"
SESSIONS = 5
GENES_PER_SESSION = 8
PLOT = '[data-testid="stMain"] [data-testid="stPlotlyChart"] .js-plotly-plot'
RSS_TARGET_GB = 2.0


def _rss_kb(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM (peak) of ``pid`` in kB, from /proc."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def _prepare(base: Path) -> tuple[dict[str, str], Path, list[str]]:
    """Workspace with the demo dataset, the demo model, and a full attribution cache."""
    env = dict(os.environ, DEEPDIFE_WORKSPACE=str(base / "workspace"), DEEPDIFE_MODELS=str(base / "models"))
    os.environ.update({k: env[k] for k in ("DEEPDIFE_WORKSPACE", "DEEPDIFE_MODELS")})
    from dashboard.datasets import ensure_demo_dataset, list_datasets

    name = ensure_demo_dataset()
    ds = next(d for d in list_datasets() if d["name"] == name)
    shutil.copytree(ROOT / "models" / "demo", base / "models" / "demo")
    import pandas as pd

    genes = pd.read_csv(ds["path"])["gene_id"].astype(str).tolist()
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "deepdife_core.cli.main",
            "explain",
            "--quiet",
            "--model",
            str(base / "models" / "demo"),
            "--data",
            str(ds["path"]),
            "--method",
            "deepshap",
            "--cache",
            str(base / "workspace" / "attributions"),
            "--out",
            str(base / "all.npz"),
        ],
        check=True,
        cwd=ROOT,
        env=env,
    )
    print(f"filled the attribution cache: {len(genes)} genes in {time.perf_counter() - t0:.0f} s", flush=True)
    return env, Path(ds["path"]), genes


def _start_server(base: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    proc, url, _log = start_streamlit(base, env)  # the server owns the log until killed
    if wait_healthy(url, tries=200):
        return proc, url
    raise RuntimeError("the Streamlit server did not start: " + (base / "server.log").read_text()[-2000:])


def _start_training(dataset_path: Path, base: Path) -> Path:
    from deepdife_core.config import ModelConfig, TrainConfig, config_to_dict
    from deepdife_core.jobs import runner as jobs

    args = {
        "dataset_name": "demo",
        "dataset_path": str(dataset_path),
        "model_name": "load-train",
        "models_root": str(base / "models"),
        "model": config_to_dict(ModelConfig(input_length=600)),
        "train": config_to_dict(TrainConfig(epochs=5000, early_stopping_patience=0, seed=1)),
    }
    folder, _ = jobs.start_job(base / "workspace" / "jobs", "train", args)
    return folder


async def _drawn(page, gene: str) -> None:
    """Wait until the page's track figure is ``gene``'s (its ``layout.meta.gene``) and painted."""
    await page.wait_for_function(
        """([sel, gene]) => {
            const gd = document.querySelector(sel);
            if (!gd || !gd.layout || !gd.layout.meta || gd.layout.meta.gene !== gene) return false;
            return gd.querySelectorAll('.scatterlayer .trace').length > 0;
        }""",
        arg=[PLOT, gene],
        timeout=180_000,
    )


async def _idle(page) -> None:
    with contextlib.suppress(Exception):
        await page.wait_for_selector('[data-testid="stStatusWidget"]', state="hidden", timeout=60_000)


async def _errors(page, where: str) -> list[str]:
    text = await page.locator('[data-testid="stMain"]').inner_text()
    found = []
    if "something went wrong" in text or "Traceback" in text:
        found.append(f"{where}: {text[:300]}")
    if await page.locator('[data-testid="stException"]').count():
        found.append(f"{where}: exception element")
    return found


async def _session(browser, url: str, genes: list[str], index: int) -> dict:
    """Open the first gene by deep link (a new browser tab), then the others through the search box."""
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await ctx.new_page()
    page.set_default_timeout(180_000)
    t0 = time.perf_counter()
    await page.goto(f"{url}/saliency?" + urllib.parse.urlencode({"model": "demo", "gene": genes[0]}))
    await _drawn(page, genes[0])
    open_s = time.perf_counter() - t0
    errors = await _errors(page, f"session {index}, gene {genes[0]}")
    times = []
    for gene in genes[1:]:
        await _idle(page)
        box = page.locator('[data-testid="stMain"]').get_by_role("textbox", name="Search by gene ID")
        await box.fill(gene)
        t0 = time.perf_counter()
        await box.press("Enter")
        await _drawn(page, gene)
        times.append(time.perf_counter() - t0)
        errors += await _errors(page, f"session {index}, gene {gene}")
    await ctx.close()
    return {"open_s": open_s, "times": times, "errors": errors}


async def _browse(url: str, genes: list[str]) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROME_ARGS, headless=True)
        # warm the server (model load, TF graph) once, as a user who opened the page earlier would have
        await _session(browser, url, genes[:1], -1)
        rng = np.random.default_rng(0)
        picks = [list(rng.choice(genes, GENES_PER_SESSION, replace=False)) for _ in range(SESSIONS)]
        results = await asyncio.gather(*[_session(browser, url, p, i) for i, p in enumerate(picks)])
        await browser.close()
    return list(results)


def main() -> dict:
    if not CHROMIUM.exists():
        result = {"benchmark": "load", "skipped": "/usr/bin/chromium is not installed"}
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(result, indent=2) + "\n")
        return result
    base = Path(tempfile.mkdtemp(prefix="deepdife-load-"))
    env, dataset_path, genes = _prepare(base)
    proc, url = _start_server(base, env)
    job = None
    try:
        job = _start_training(dataset_path, base)
        t0 = time.perf_counter()
        sessions = asyncio.run(_browse(url, genes))
        wall = time.perf_counter() - t0
        from deepdife_core.jobs.runner import read_job

        job_state = (read_job(job) or {}).get("state")
        rss = _rss_kb(proc.pid)
    finally:
        if job is not None:
            from deepdife_core.jobs.runner import read_job

            pid = (read_job(job) or {}).get("pid")
            if pid:
                kill_group(int(pid))
        kill_group(proc.pid)
    times = np.array([t for s in sessions for t in s["times"]])
    opens = np.array([s["open_s"] for s in sessions])
    errors = [e for s in sessions for e in s["errors"]]
    log = (base / "server.log").read_text(errors="replace")
    n_cached = len(list((base / "workspace" / "attributions").rglob("*.npz")))
    result = {
        "benchmark": "load",
        "sessions": SESSIONS,
        "genes_per_session": GENES_PER_SESSION,
        "training_job_state_during_test": job_state,
        "cached_attributions": n_cached,
        "what": (
            "each session opens one gene by deep link (a new tab: the app boots), then picks genes in the "
            "search box; seconds from Enter to the gene's track drawn (DeepSHAP from the disk cache, ISM and "
            "the JASPAR scan computed); server, training job and 5 Chromium renderers share the same cores"
        ),
        "open_by_deep_link_s": {
            "p50": round(float(np.percentile(opens, 50)), 3),
            "max": round(float(opens.max()), 3),
        },
        "seconds_to_track": {
            "p50": round(float(np.percentile(times, 50)), 3),
            "p95": round(float(np.percentile(times, 95)), 3),
            "max": round(float(times.max()), 3),
            "n": len(times),
        },
        "wall_seconds": round(wall, 1),
        "errors": errors,
        "server_tracebacks": log.count("Traceback"),
        "server_rss_gb": round(rss.get("VmRSS", 0) / 2**20, 3),
        "server_peak_rss_gb": round(rss.get("VmHWM", 0) / 2**20, 3),
        "rss_target_gb": RSS_TARGET_GB,
        "meets_rss_target": rss.get("VmHWM", 0) / 2**20 < RSS_TARGET_GB,
        "cpus": os.cpu_count(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    shutil.rmtree(base, ignore_errors=True)
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
