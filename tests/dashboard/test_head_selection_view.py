"""The Train page during and after a head selection (``TrainConfig.try_heads``): one network's curve at a time,
honest progress over all networks, and the kept network's curves and sentence at the end."""

from __future__ import annotations

import json

import pytest

from dashboard import jobs as djobs
from dashboard.page_train import head_selection_text, progress_text
from deepdife_core.jobs import runner as core_jobs


def _events(folder, events) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / core_jobs.PROGRESS_FILE).write_text("".join(json.dumps(e) + "\n" for e in events))


def _epoch(cand: int, head: str, epoch: int, t: float, best: int) -> dict:
    return {
        "event": "epoch",
        "epoch": epoch,
        "epochs": 10,
        "best_epoch": best,
        "head": head,
        "candidate": cand,
        "n_candidates": 2,
        "val_loss": 0.6 - 0.01 * epoch,
        "loss": 0.6,
        "t": t,
    }


def test_each_network_has_its_own_curve_and_progress_counts_both(dirs, monkeypatch, tmp_path):
    folder = tmp_path / "job"
    monkeypatch.setattr(djobs, "job_folder", lambda job_id: folder)
    first = [_epoch(0, "global_region", e, 100.0 + e, min(e, 3)) for e in range(1, 6)]  # early stopping at 5 of 10
    second = [_epoch(1, "global_max", e, 105.0 + e, e) for e in range(1, 3)]
    batch = {"event": "batch", "epoch": 3, "batch": 5, "n_batches": 10, "candidate": 1, "n_candidates": 2, "t": 108}
    _events(folder, [{"event": "start", "epochs": 10, "n_train": 5, "n_val": 2, "n_test": 2, "t": 100.0}])
    prog = djobs.train_progress("j", {"state": "running"})
    assert prog.n_candidates == 1 and prog.fraction == 0.0
    _events(folder, [{"event": "start", "epochs": 10, "t": 100.0}, *first, *second, batch])
    prog = djobs.train_progress("j", {"state": "running"})
    assert (prog.candidate, prog.n_candidates, prog.head) == (1, 2, "global_max")
    assert [h["epoch"] for h in prog.history] == [1, 2] and prog.best_epoch == 2  # the running network's own
    assert [h["epoch"] for h in prog.by_head["global_region"]] == [1, 2, 3, 4, 5]
    assert prog.fraction == pytest.approx((1 + 2.5 / 10) / 2)  # the first network counts as done
    frac, words = progress_text(prog, "running", prog.best_epoch)
    assert frac == prog.fraction
    assert words.startswith("Network 2 of 2 (summary: global_max) · Epoch 2 of 10")
    # 7 epochs in 7 s: 7.5 epochs of the second network left at 1 s each
    assert prog.eta_s == pytest.approx(7.5, rel=1e-6)


def test_the_finished_sentence_names_every_network_and_the_kept_one():
    sel = {
        "kept": "global_max",
        "monitor": "val_loss",
        "candidates": [
            {"head": "global_region", "value": 0.5123, "best_epoch": 7, "epochs_run": 27},
            {"head": "global_max", "value": 0.4012, "best_epoch": 12, "epochs_run": 32},
        ],
    }
    text = head_selection_text(sel)
    assert "global_region 0.512 (epoch 7), global_max 0.401 (epoch 12)" in text
    assert text.endswith("kept **global_max**; the curves are its own.")
