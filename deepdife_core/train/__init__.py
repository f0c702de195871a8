"""Training: the fit loop, augmentation, the k-mer baseline and metrics.

Modules: :mod:`.fit` (``fit``, ``train_dataset``, ``cross_validate``: the
both-strand / forward epochs, chance guard, early stopping, fine-tuning),
:mod:`.augment` (EvoAug and PhyloAug), :mod:`.baseline` (k-mer logistic
regression fitted on the same split), :mod:`.metrics` (auROC, auPRC, the
learning verdict).

Data contract: input is a dataset table (:mod:`deepdife_core.data`) with
``gene_id``, ``label``, ``sequence`` and optionally ``family``/``split``; output is
a :class:`~.fit.TrainResult` (Keras model(s), per-epoch history dicts, metrics
dict with ``auroc``, ``auprc``, ``baseline_kmer`` and ``learning``) which
:func:`deepdife_core.model.folder.save_model_folder` writes as a model folder.
"""
