"""Model: the CNN, its predictions and model folders on disk.

Modules: :mod:`.cnn` (``build_model`` from a :class:`~deepdife_core.config.ModelConfig`,
the :class:`~.cnn.Predictor` that pads, conjoins strands and averages fold
ensembles, the import of DeepDifE's published Keras 2 model), :mod:`.folder`
(save / load / list / rename / delete model folders).

Data contract: the network takes one-hot ``(N, network_length, 4)`` and gives the
sigmoid probability ``(N, 1)``; callers pass ``(N, input_length, 4)`` to a
Predictor, which adds the ``pad_left``/``pad_right`` zero rows.  A *model folder*
holds ``model.keras`` (or ``fold_<k>.keras``), ``config.json`` (the RunConfig),
``history.jsonl``, ``metrics.json``, ``provenance.json`` and ``split.csv``.
TensorFlow is imported once, lazily, by :func:`.cnn.quiet_tensorflow`.
"""
