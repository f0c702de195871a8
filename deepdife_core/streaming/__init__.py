"""Prediction in bounded memory: a FASTA of any size is read, encoded, predicted and written in chunks.

Data contract
-------------
Input: a promoter FASTA on disk (plain or gzip, :func:`deepdife_core.data.io.iter_fasta` with
``stream=True``), read three times at most: (1) every record checked and its gene key
(:func:`deepdife_core.data.io.normalize_id`) and identity hashed to 8 bytes each, (2) only if a gene has
several records (alternative TSSs), the IDs and coordinates of those records, named by
:func:`deepdife_core.data.io.record_ids` exactly as :func:`deepdife_core.data.io.records_from_fasta` names
them (``alt_tss="all"``; ``"first"`` keeps each gene's first record), (3) the records in chunks of
:attr:`StreamConfig.chunk_records`, fitted to the model (length, pad side), one-hot encoded float32
``(chunk, L, 4)``, predicted on both strands and appended to the output.

Output: a CSV written to a hidden temp file beside ``out`` and renamed when complete (an error
leaves no file), columns ``gene_id`` (str, the record identity; formulas neutralised as in every
export), ``probability`` (float, 6 decimals, the model's probability: conjoined or forward),
``prediction`` (int 0/1, ``probability >= threshold``), ``probability_forward``,
``probability_reverse`` (float), rows in file order.  The same rows as predicting the whole file at
once.

Memory: one chunk (about ``chunk_records * L * 4 * 4`` bytes of one-hot plus the model's batch
activations; 8,192 x 620 bp ~ 80 MB) plus 16 bytes per record for the hashes of pass 1, whatever the
file's size.
"""

from deepdife_core.streaming.predict import StreamConfig, predict_fasta_to_csv

__all__ = ["StreamConfig", "predict_fasta_to_csv"]
