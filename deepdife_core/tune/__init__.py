"""Hyperparameter tuning with Optuna (search space, objective, storage, workers).

Module: :mod:`.study` (``run_study``: a study on SQLite or PostgreSQL created
before the worker processes start; each trial trains with the sampled configs and
reports the validation auROC).

Data contract: a study folder holds ``study.db`` (or a PostgreSQL URL),
``space.json`` and ``best.json`` (the best trial's configs, ready for
``deepdife train``).
"""
