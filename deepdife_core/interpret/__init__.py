"""Interpretation: attributions (DeepSHAP, gradients, ISM) of a model's predictions.

Modules: :mod:`.explain` (``explain``: backgrounds, both strands, caching,
attribution files), :mod:`.deeplift` (a fast DeepLIFT engine applying shap's
DeepExplainer rules; shap stays its oracle).

Data contract: an *attribution set* (``Attributions``): ``gene_ids`` (N,),
``x`` one-hot float32 ``(N, L, 4)``, ``contrib`` float32 ``(N, L, 4)`` (the
hypothetical contributions times the one-hot input sum per position to the
saliency), ``hypothetical`` ``(N, L, 4)``, ``prediction`` (N,) and
``additivity_error`` (N,); saved as ``.npz`` with the same keys.
"""
