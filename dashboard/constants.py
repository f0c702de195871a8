"""Constants shared by the dashboard pages (one definition each).

Uploaders take any file name: what a file is is judged by its content
(:mod:`dashboard.uploads`), so there is no list of allowed endings. Job states are those of :data:`deepdife_core.jobs.runner.STATES`; the pages show them in
plain words (:data:`STATE_WORDS`).
"""

from __future__ import annotations

#: job states in which a job still works (its panel refreshes itself)
LIVE_STATES: tuple[str, ...] = ("queued", "running")
#: seconds between two refreshes of a live job panel
REFRESH_S: float = 1.5
#: how a job state is shown to the user
STATE_WORDS: dict[str, str] = {
    "queued": "waiting to start",
    "running": "running",
    "done": "finished",
    "failed": "failed",
    "stopped": "stopped",
}


def state_words(job_state: str | None) -> str:
    """The plain-language name of a job state (unknown states are shown as they are)."""
    return STATE_WORDS.get(str(job_state), str(job_state))
