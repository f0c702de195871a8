"""Data: promoter sequences, labels and the dataset table (no TensorFlow here).

Modules: :mod:`.io` (FASTA, tables, gene lists, DE tables, orthologs, dataset
builders and the shared input validator), :mod:`.encode` (one-hot, padding,
reverse complement), :mod:`.split` (family-aware train/val/test split),
:mod:`.demo` (the bundled synthetic demo), :mod:`.tasks` (synthetic learning
tasks of known grammar for the learning benchmark).

Data contract: the *dataset table* (``pandas.DataFrame``, one row per record)
=========== ======= =======================================================
column      dtype   meaning
=========== ======= =======================================================
gene_id     str     record identity, unique (``GENE``, ``GENE::Chr:s-e(±)`` or ``GENE#k``)
label       int     1 responsive, 0 not (absent for prediction-only inputs)
sequence    str     promoter, A/C/G/T/N, TSS at the 3' end, ``DatasetConfig.length`` bp after fitting
family      str     optional: gene family / ortholog group; a split never separates one
split       str     optional: ``train`` / ``val`` / ``test``
=========== ======= =======================================================
Sequences are fitted to the model length by :func:`.encode.pad_or_trim` with the
dataset's ``pad_side`` (the 5' end is trimmed, so the TSS stays at the 3' end).
One-hot arrays are float32 ``(N, L, 4)`` with channels A, C, G, T (N = all zero).
"""
