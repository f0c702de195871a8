"""Background jobs: long work in a child process that writes progress to its folder.

Modules: :mod:`.runner` (start, stop, poll; ``python -m deepdife_core.jobs.runner run
<folder>``), :mod:`.tune` and :mod:`.motifs` (one module per job kind besides
training).

Data contract: a *job folder* holds ``job.json`` (kind, args, created),
``status.json`` (state queued/running/finished/failed/stopped, progress 0..1,
message, pid, result), ``log.txt`` and the job's outputs; a ``stop`` file asks
the job to end.  Pages poll ``status.json``; a job survives a page switch.
"""
