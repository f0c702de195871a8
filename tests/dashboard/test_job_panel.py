"""The job panel's shared helpers (``dashboard.job_panel``): the progress of scoring jobs and the run names."""

from __future__ import annotations

from dashboard.job_panel import run_name, scored_progress


def _words(ev: dict) -> str:
    return f"{ev['done']} of {ev['total']} done"


def test_scored_progress_follows_stages_and_scored_events():
    assert scored_progress([], _words) == (0.0, "Starting…")
    events = [{"event": "stage", "text": "Reading…"}]
    assert scored_progress(events, _words) == (0.0, "Reading…")
    events += [{"event": "scored", "done": 1, "total": 4}, {"event": "epoch"}]
    assert scored_progress(events, _words) == (0.25, "1 of 4 done")
    events += [{"event": "stage", "text": "Writing…"}]
    assert scored_progress(events, _words) == (0.25, "Writing…")  # a later stage keeps the fraction
    events += [{"event": "scored", "done": 9, "total": 4}, {"event": "scored", "done": 0, "total": 0}]
    assert scored_progress(events, _words) == (1.0, "9 of 4 done")  # capped; a total of 0 is no step


def test_run_name_is_the_out_folder_else_the_job_id():
    assert run_name({"id": "j1", "args": {"out": "/w/variants/v1"}}) == "v1"
    assert run_name({"id": "j1", "args": {}}) == "j1"
    assert run_name({"id": "j1", "args": None}) == "j1"
