"""Load test (issues 8, 17): browser sessions on the Saliency page while a training job runs, timed per part.

A real ``streamlit run dashboard/app.py`` server (as ``make run``) with the demo
dataset and model in a temporary workspace whose attribution cache holds the
genes the sessions visit (DeepSHAP and ISM, filled with ``deepdife explain
--cache``, which stores the strand probabilities with them) and whose motif-hit
cache (``workspace/motif_hits``) holds their JASPAR hits at the page's default
p-value, as the page leaves them after showing a gene once: every gene switch
is a *cached* one, no model call and no scan.  A training job on the demo
data runs in the background the whole time (``--no-training``: not).  For each
count of ``--sessions`` (default ``1,5``), that many Chromium sessions
(Playwright, headless, concurrently) each open a gene through the Saliency
page's deep link, then switch to ``--genes`` more through the search box and
wait for the attribution track to be drawn.

Where a gene switch's time goes: the server runs with ``DEEPDIFE_PROFILE`` set,
so the page appends its timed parts of each script run (see
:class:`dashboard.page_saliency.Profile`): ``script`` (the Saliency page's
whole run; ``script_cpu``: its thread's CPU seconds, the rest is waiting for
the GIL, the cores or a lock), ``attributions`` (attribution cache lookup and the model's strand
probabilities), ``motifs`` (JASPAR scan), ``figure`` (building the plotly
figure), ``serialise`` (``st.plotly_chart``: the figure's JSON into the
message) and ``other`` (the rest of the script).  Each switch the browser saw
(Enter to the gene's track drawn) is matched with the server run of that gene
inside it; ``client`` is the switch's time minus the page's script run (the
app's script around the page, websocket transport and the browser drawing the
figure); ``first_message`` is Enter to the server's first websocket message and
``after_last_message`` the server's last message to the track drawn (browser
drawing left once the server is done).

Writes ``bench/results/load.json``: per session count p50 / p95 / max seconds
per part and of the whole switch, errors seen (exceptions, apologies,
tracebacks in the server log), the server's resident memory (current and peak,
target < 2 GB), and ``os.getloadavg()`` before, between and after (the cores
may be shared with other work).
"""

from __future__ import annotations

import argparse
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

from _report import write_result  # noqa: E402

from tests.support import CHROME_ARGS, CHROMIUM, kill_group, start_streamlit, wait_healthy  # noqa: E402

OUT = HERE / "results" / "load.json"
SESSIONS = (1, 5)
GENES_PER_SESSION = 8
#: the parts of a server script run the page times (dashboard.page_saliency.Profile), in the order of the page
PARTS = ("attributions", "motifs", "figure", "serialise")
#: the server side of a cached gene switch should take at most this long (issue 17)
SERVER_TARGET_S = 0.3
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


def _prepare(base: Path, n_cached: int, seed: int = 0) -> tuple[dict[str, str], Path, list[str]]:
    """Workspace with the demo dataset, the demo model, and ``n_cached`` genes' attributions in the disk cache.

    Returns the server's environment, the dataset file and the cached genes (the sessions visit only these).
    """
    env = dict(
        os.environ,
        DEEPDIFE_WORKSPACE=str(base / "workspace"),
        DEEPDIFE_MODELS=str(base / "models"),
        DEEPDIFE_PROFILE=str(base / "profile.jsonl"),
    )
    os.environ.update({k: env[k] for k in ("DEEPDIFE_WORKSPACE", "DEEPDIFE_MODELS")})
    from dashboard.datasets import ensure_demo_dataset, list_datasets

    name = ensure_demo_dataset()
    ds = next(d for d in list_datasets() if d["name"] == name)
    shutil.copytree(ROOT / "models" / "demo", base / "models" / "demo")
    import pandas as pd

    genes = pd.read_csv(ds["path"])["gene_id"].astype(str).tolist()
    genes = [str(g) for g in np.random.default_rng(seed).permutation(genes)[:n_cached]]
    t0 = time.perf_counter()
    for method in ("deepshap", "ism"):  # what the page shows by default: DeepSHAP tracks and the ISM heat map
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
                "--genes",
                *genes,
                "--method",
                method,
                "--cache",
                str(base / "workspace" / "attributions"),
                "--out",
                str(base / f"{method}.npz"),
            ],
            check=True,
            cwd=ROOT,
            env=env,
        )
    _fill_motif_hits(base / "workspace", pd.read_csv(ds["path"]), genes)
    print(f"filled the attribution and motif-hit caches: {len(genes)} genes in {time.perf_counter() - t0:.0f} s")
    return env, Path(ds["path"]), genes


def _fill_motif_hits(workspace: Path, table, genes: list[str]) -> None:
    """The genes' JASPAR hits at the Saliency page's default p-value in ``workspace/motif_hits``.

    The same database (``workspace/motif_db``) and cache the page uses (:mod:`deepdife_core.motifs.hitcache`),
    so the server reads them as it would after showing each gene once.
    """
    from dashboard.page_saliency import DEFAULT_PVALUE
    from deepdife_core.motifs.hitcache import MotifHitCache
    from deepdife_core.motifs.modisco import load_motif_database
    from deepdife_core.motifs.scan import prepare_database

    db = prepare_database(load_motif_database("jaspar-plants", cache_dir=str(workspace / "motif_db")))
    store = MotifHitCache(workspace / "motif_hits")
    sequences = dict(zip(table["gene_id"].astype(str), table["sequence"].astype(str), strict=True))
    for gene in genes:
        store.scan(sequences[gene].upper(), db, max_pvalue=DEFAULT_PVALUE)


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
    """Open the first gene by deep link (a new browser tab), then the others through the search box.

    Each switch is ``{gene, seconds, t_enter, t_drawn}`` (wall-clock, to match the server's profile).
    """
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await ctx.new_page()
    page.set_default_timeout(180_000)
    frames: list[float] = []  # wall-clock arrival of every server message (the app's websocket)
    page.on("websocket", lambda ws: ws.on("framereceived", lambda _payload: frames.append(time.time())))
    t0 = time.perf_counter()
    await page.goto(f"{url}/saliency?" + urllib.parse.urlencode({"model": "demo", "gene": genes[0]}))
    await _drawn(page, genes[0])
    open_s = time.perf_counter() - t0
    errors = await _errors(page, f"session {index}, gene {genes[0]}")
    switches = []
    for gene in genes[1:]:
        await _idle(page)
        box = page.locator('[data-testid="stMain"]').get_by_role("textbox", name="Search by gene ID")
        await box.fill(gene)
        t_enter, t0 = time.time(), time.perf_counter()
        await box.press("Enter")
        await _drawn(page, gene)
        seconds = time.perf_counter() - t0
        got = [f - t_enter for f in frames if 0 <= f - t_enter <= seconds]
        switches.append(
            {
                "gene": gene,
                "seconds": seconds,
                "t_enter": t_enter,
                "t_drawn": t_enter + seconds,
                # Enter to the server's first answer; the server's last message to the track drawn
                "first_message": got[0] if got else None,
                "after_last_message": seconds - got[-1] if got else None,
            }
        )
        errors += await _errors(page, f"session {index}, gene {gene}")
    await ctx.close()
    return {"open_s": open_s, "switches": switches, "errors": errors}


async def _browse(url: str, genes: list[str], counts: tuple[int, ...], per_session: int) -> dict[int, dict]:
    """For each session count: that many concurrent sessions, each opening ``per_session + 1`` genes."""
    from playwright.async_api import async_playwright

    out: dict[int, dict] = {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROME_ARGS, headless=True)
        # warm the server (model load, TF graph) once, as a user who opened the page earlier would have
        await _session(browser, url, genes[:1], -1)
        rng = np.random.default_rng(0)
        for n in counts:
            picks = [[str(g) for g in rng.choice(genes, per_session + 1, replace=False)] for _ in range(n)]
            load_before = os.getloadavg()
            t0 = time.perf_counter()
            results = await asyncio.gather(*[_session(browser, url, p, i) for i, p in enumerate(picks)])
            out[n] = {
                "sessions": list(results),
                "wall_seconds": time.perf_counter() - t0,
                "loadavg_before": load_before,
                "loadavg_after": os.getloadavg(),
            }
        await browser.close()
    return out


def _stats(values: list[float]) -> dict:
    a = np.asarray(values, dtype=float)
    if not len(a):
        return {"n": 0}
    return {
        "p50": round(float(np.percentile(a, 50)), 3),
        "p95": round(float(np.percentile(a, 95)), 3),
        "max": round(float(a.max()), 3),
        "n": len(a),
    }


def read_profile(path: Path) -> list[dict]:
    """The page's script runs from its ``DEEPDIFE_PROFILE`` lines: ``{run, gene, t_start, t_end, parts}``."""
    runs: dict[str, dict] = {}
    if not path.is_file():
        return []
    for line in path.read_text().splitlines():
        with contextlib.suppress(ValueError):
            d = json.loads(line)
            run = runs.setdefault(d["run"], {"run": d["run"], "gene": d["gene"], "parts": {}})
            run["t_start"], run["t_end"] = d["t_start"], d["t_end"]
            run["parts"][d["part"]] = d
    return list(runs.values())


def match_switches(switches: list[dict], runs: list[dict], *, slack_s: float = 0.05) -> list[dict]:
    """Each browser switch with the server runs that drew its gene inside it (Enter .. track drawn).

    Returns one row per switch with a run: the switch's ``seconds``, the parts of the last such run
    (``other``: its script time not in a timed part), ``client`` (switch minus that run's script time),
    ``runs`` (how many script runs of the gene fell inside the switch) and the figure's JSON ``bytes``.
    """
    rows = []
    for sw in switches:
        inside = [
            r
            for r in runs
            if r["gene"] == sw["gene"]
            and r["t_start"] >= sw["t_enter"] - slack_s
            and r["t_end"] <= sw["t_drawn"] + slack_s
            and "figure" in r["parts"]
        ]
        if not inside:
            continue
        run = max(inside, key=lambda r: r["t_end"])
        parts = {p: run["parts"][p]["seconds"] for p in PARTS if p in run["parts"]}
        script = run["parts"]["script"]["seconds"]
        rows.append(
            {
                "seconds": sw["seconds"],
                "script": script,
                # CPU seconds of the script's thread: script - script_cpu is time spent waiting (GIL, cores, locks)
                "script_cpu": run["parts"]["script"].get("cpu"),
                **parts,
                "other": script - sum(parts.values()),
                "client": sw["seconds"] - script,
                "first_message": sw.get("first_message"),
                "after_last_message": sw.get("after_last_message"),
                "runs": len(inside),
                "bytes": run["parts"].get("serialise", {}).get("bytes"),
            }
        )
    return rows


def summarise(browse: dict, runs: list[dict], per_session: int) -> dict:
    """Per-part p50 / p95 / max of the switches, opening times and errors of one session count."""
    sessions = browse["sessions"]
    switches = [s for ses in sessions for s in ses["switches"]]
    rows = match_switches(switches, runs)
    names = ("script", "script_cpu", *PARTS, "other", "client", "first_message", "after_last_message")
    parts = {p: _stats([r[p] for r in rows if r.get(p) is not None]) for p in names}
    script = parts["script"]
    return {
        "sessions": len(sessions),
        "genes_per_session": per_session,
        "open_by_deep_link_s": _stats([s["open_s"] for s in sessions]),
        "seconds_to_track": _stats([s["seconds"] for s in switches]),
        "parts_s": parts,
        "switches_matched_to_a_server_run": len(rows),
        "script_runs_per_switch_max": max((r["runs"] for r in rows), default=0),
        "figure_json_bytes_p50": int(np.percentile([r["bytes"] for r in rows if r["bytes"]], 50)) if rows else None,
        "server_script_p95_within_target": bool(script.get("p95", float("inf")) <= SERVER_TARGET_S),
        "wall_seconds": round(browse["wall_seconds"], 1),
        "loadavg_before": [round(v, 2) for v in browse["loadavg_before"]],
        "loadavg_after": [round(v, 2) for v in browse["loadavg_after"]],
        "errors": [e for s in sessions for e in s["errors"]],
    }


def main(
    counts: tuple[int, ...] = SESSIONS, per_session: int = GENES_PER_SESSION, training: bool = True, out: Path = OUT
) -> dict:
    if not CHROMIUM.exists():
        result = {"benchmark": "load", "skipped": "/usr/bin/chromium is not installed"}
        return write_result(out, result, echo=False)
    load_start = os.getloadavg()
    base = Path(tempfile.mkdtemp(prefix="deepdife-load-"))
    env, dataset_path, genes = _prepare(base, n_cached=2 * (per_session + 1))
    proc, url = _start_server(base, env)
    job = None
    try:
        if training:
            job = _start_training(dataset_path, base)
        t0 = time.perf_counter()
        browsed = asyncio.run(_browse(url, genes, counts, per_session))
        wall = time.perf_counter() - t0
        from deepdife_core.jobs.runner import read_job

        job_state = (read_job(job) or {}).get("state") if job is not None else None
        rss = _rss_kb(proc.pid)
    finally:
        if job is not None:
            from deepdife_core.jobs.runner import read_job

            pid = (read_job(job) or {}).get("pid")
            if pid:
                kill_group(int(pid))
        kill_group(proc.pid)
    runs = read_profile(base / "profile.jsonl")
    log = (base / "server.log").read_text(errors="replace")
    n_cached = len(list((base / "workspace" / "attributions").rglob("*.npz")))
    n_hits = len(list((base / "workspace" / "motif_hits").rglob("*.npz")))
    result = {
        "benchmark": "load",
        "training_job": training,
        "training_job_state_during_test": job_state,
        "cached_genes": len(genes),
        "cached_attribution_files": n_cached,
        "cached_motif_hit_files": n_hits,
        "what": (
            "per session count: each session opens one gene by deep link (a new tab: the app boots), then picks "
            "genes in the search box; seconds from Enter to the gene's track drawn, every gene's DeepSHAP and "
            "ISM (with the strand probabilities) in the attribution cache and its JASPAR hits in the motif-hit cache "
            "(a cached gene switch: no model call, no scan); parts_s: the page's "
            "script run of the switch by part (DEEPDIFE_PROFILE), 'other' = the page's script time outside the timed "
            "parts, 'client' = switch - page script (the app's own script around the page, transport and "
            "browser drawing), 'first_message' = Enter to the server's first websocket message, "
            "'after_last_message' = the server's last message of the switch to the track drawn (browser "
            "drawing that is left after the server is done); server, training job and the Chromium renderers "
            "share the same cores"
        ),
        "server_target_s": SERVER_TARGET_S,
        "by_sessions": {str(n): summarise(browsed[n], runs, per_session) for n in counts},
        "wall_seconds": round(wall, 1),
        "server_tracebacks": log.count("Traceback"),
        "server_rss_gb": round(rss.get("VmRSS", 0) / 2**20, 3),
        "server_peak_rss_gb": round(rss.get("VmHWM", 0) / 2**20, 3),
        "rss_target_gb": RSS_TARGET_GB,
        "meets_rss_target": rss.get("VmHWM", 0) / 2**20 < RSS_TARGET_GB,
        "cpus": os.cpu_count(),
        "loadavg_start": [round(v, 2) for v in load_start],
        "loadavg_end": [round(v, 2) for v in os.getloadavg()],
    }
    write_result(out, result, echo=False)
    shutil.rmtree(base, ignore_errors=True)
    return result


def _counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"give session counts like 1,5, not {text!r}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"give session counts >= 1 like 1,5, not {text!r}")
    return counts


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=_counts, default=SESSIONS, help="session counts to run, e.g. 1,5")
    parser.add_argument("--genes", type=int, default=GENES_PER_SESSION, help="gene switches per session")
    parser.add_argument("--no-training", action="store_true", help="no training job in the background")
    parser.add_argument("--out", type=Path, default=OUT, help=f"result file (default {OUT.relative_to(ROOT)})")
    a = parser.parse_args()
    print(json.dumps(main(a.sessions, max(1, a.genes), training=not a.no_training, out=a.out), indent=2))
