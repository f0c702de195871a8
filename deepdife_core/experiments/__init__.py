"""In-silico experiments: insert, sweep, space, dose, tile and ablate motifs, and read the model's grammar.

Data contract
-------------
* **Sequences** are float32 one-hot ``(N, L, 4)`` (A, C, G, T; N = all-zero row) fitted to
  the model's length ``L`` with the TSS at the 3' end: promoter position ``i`` (0-based,
  forward promoter strand) lies ``i - L`` bp from the TSS (``pos_from_tss``, negative
  upstream, as in a motif run's ``seqlets.csv``).
* **Motifs** (:mod:`.sources`) are :class:`~.sources.MotifSource`: a ``(W, 4)`` PPM from an
  IUPAC consensus (``ACGTGKC``), a JASPAR CORE plants matrix (``MA0930.1`` or a TF name;
  pyjaspar, offline) or a motif run's pattern (``RUN:pos_0``, its trimmed CWM).  Inserted
  bases are its consensus or a draw per background (``instance``); ``position`` is the
  0-based promoter position of the motif's first base; orientation ``-`` inserts the
  reverse complement at the same place; inserting *replaces* the bases (length unchanged).
* **Backgrounds** (:mod:`.backgrounds`): ``G`` dataset promoters of one class, or their
  seeded dinucleotide shuffles (:func:`deepdife_core.interpret.explain.dinucleotide_shuffle`).
* **Scores** (:mod:`.scoring`): ``probability`` is what the model predicts
  (:meth:`~deepdife_core.model.cnn.Predictor.predict`); ``logit`` the mean pre-sigmoid output
  over members and strands.  ``delta_* = after - before`` for the same background gene.
* **Tables** (pandas, one row per gene or condition): ``gene_id`` str, positions int64,
  ``p_*`` / ``delta_*`` / ``*_logit`` float64; summaries carry ``n`` and
  ``<value>_mean, <value>_sd, <value>_ci_low, <value>_ci_high`` (Student-t 95% CI of the
  mean, :mod:`.summary`).  Genomic windows (:func:`.tile.genomic_windows`) use the record's
  ``coords`` (``Chr:start-end(strand)``) convention.
* **Randomness**: every draw comes from ``np.random.default_rng(config.seed)`` (or seeded per
  sequence), so a fixed seed gives identical tables.  Model calls are batched
  (``batch_size``) and built lazily chunk by chunk (``chunk``), with progress events and a
  stop check between chunks (:class:`~.scoring.ExperimentStoppedError`).

Verbs: :func:`.insert.insertion`, :func:`.sweep.position_sweep`, :func:`.spacing.spacing_grid`,
:func:`.dose.dose_response`, :func:`.tile.tile_gene`, :func:`.ablate.ablate_motif`; by name:
:func:`.runs.run_experiment`.  Options: :class:`.config.ExperimentConfig`.
"""

from deepdife_core.experiments.config import EXPERIMENTS, ExperimentConfig
from deepdife_core.experiments.runs import ExperimentResult, read_run, run_experiment, save_run

__all__ = ["EXPERIMENTS", "ExperimentConfig", "ExperimentResult", "read_run", "run_experiment", "save_run"]
