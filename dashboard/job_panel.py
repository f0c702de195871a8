"""One panel for every background job (training, tuning, motif discovery, …).

A page describes its kind of job once in a :class:`JobView` and calls
:func:`show`: while the job is live, a fragment refreshes its heading, state,
Stop button and the page's progress drawing every :data:`REFRESH_S` seconds;
as soon as the job's state changes (waiting → running, running → finished)
the whole page is redrawn, so no list or label elsewhere on the page keeps
showing the old state. A failed job shows the library's message (a user
mistake) or an apology with the job id (a bug); a finished one the page's
result drawing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from dashboard import jobs, widgets
from dashboard.constants import LIVE_STATES, REFRESH_S, state_words
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.jobs.runner import STOP_FILE


@dataclass(frozen=True)
class JobView:
    """How one kind of job is drawn.

    ``title(job)`` is the job's heading (markdown, user text already escaped);
    ``progress(job_id, job)`` draws its progress (live and, unless ``result``
    does it, after the end); ``result(job_id, job)`` draws a finished or
    stopped job; ``on_end(job_id, job)`` runs once in the refresh that sees
    the job end (e.g. to open its result) before the page is redrawn.
    ``stoppable=False`` leaves out the Stop button (a job that cannot be
    interrupted, such as a genome registration).
    """

    noun: str
    stop_key: str
    title: Callable[[dict], str]
    progress: Callable[[str, dict], None] | None = None
    result: Callable[[str, dict], None] | None = None
    on_end: Callable[[str, dict], None] | None = None
    stop_label: str = "Stop"
    stop_note: str = "Stop requested: the job ends after the current step."
    internal_note: str = "Details are in the job folder's log.txt; please report the job id."
    input_prefix: Callable[[dict], str] | None = None
    stoppable: bool = True


def is_live(job: dict | None) -> bool:
    """Whether ``job`` (a ``job.json`` dict) still works."""
    return job is not None and job.get("state") in LIVE_STATES


def followed_job(kind: str, key: str) -> dict | None:
    """The job of ``kind`` a page follows: the session's (its id under ``key``), else the newest live one.

    After a reload, or in a new session, the newest live job of ``kind`` is followed again
    (its id is put under ``key``); with none live, ``key`` is cleared.
    """
    current = st.session_state.get(key)
    if current:
        try:
            job = jobs.read(current)
        except DeepDifEInputError:
            job = None
        if job is not None and job.get("kind") == kind:
            return job
    live = [j for j in jobs.list_kind(kind) if is_live(j)]
    st.session_state[key] = live[0]["id"] if live else None
    return live[0] if live else None


def run_name(job: dict) -> str:
    """The name of the run ``job`` writes (its ``out`` folder's name), else the job id."""
    return Path((job.get("args") or {}).get("out", "")).name or job["id"]


def scored_progress(events: list[dict], scored: Callable[[dict], str]) -> tuple[float, str]:
    """Fraction done and a line of text from a job's ``stage`` and ``scored`` events.

    A ``stage`` event's ``text`` is shown as it is; a ``scored`` event (``done`` of
    ``total``) sets the fraction and is put in words by ``scored(event)``.
    """
    frac, text = 0.0, "Starting…"
    for ev in events:
        if ev.get("event") == "stage":
            text = str(ev.get("text", text))
        elif ev.get("event") == "scored" and ev.get("total"):
            frac = min(1.0, int(ev["done"]) / int(ev["total"]))
            text = scored(ev)
    return frac, text


def failure(view: JobView, job: dict) -> None:
    """The message of a failed job: the input problem in the library's words, or an apology for a bug."""
    if job.get("error_kind") == "input":
        prefix = view.input_prefix(job) if view.input_prefix else ""
        st.error(prefix + widgets.md(job.get("error") or f"the {view.noun}'s input was not valid"))
    else:
        st.error(
            f"Sorry, {view.noun} {widgets.md(job['id'])} failed because of an internal problem "
            f"({widgets.md(job.get('error') or 'unknown')}). {view.internal_note}"
        )


def show(view: JobView, job: dict) -> None:
    """Draw ``job``: the live panel while it works, else its failure or its result."""
    if is_live(job):
        _live(view, job["id"], job["state"])
        return
    if job["state"] == "failed":
        failure(view, job)
        if view.progress is not None:
            view.progress(job["id"], job)
        return
    if view.result is not None:
        view.result(job["id"], job)
    elif view.progress is not None:
        view.progress(job["id"], job)


@st.fragment(run_every=REFRESH_S)
def _live(view: JobView, job_id: str, shown_state: str) -> None:
    job = jobs.read(job_id)
    if job is None:
        return
    if job["state"] != shown_state:  # the page was drawn for another state: redraw all of it
        if not is_live(job) and view.on_end is not None:
            view.on_end(job_id, job)
        st.rerun()
    c1, c2 = st.columns([4, 1])
    c1.markdown(f"{view.title(job)} — {state_words(job['state'])}")
    if view.stoppable:
        if c2.button(view.stop_label, key=f"{view.stop_key}.{job_id}", icon=":material/stop:"):
            jobs.stop(job_id)
        if (jobs.job_folder(job_id) / STOP_FILE).exists():
            st.info(view.stop_note)
    if view.progress is not None:
        view.progress(job_id, job)
