"""Genomes: a registry of genome FASTA + annotation pairs, and promoters cut from them by gene ID.

Data contract
-------------
Registry folder ``$DEEPDIFE_WORKSPACE/genomes/<name>/`` (written to a hidden temp
folder, renamed when complete; :mod:`deepdife_core.genome.registry`):

``genome.fa.gz``      the sequences, bgzip-compressed (one record per chromosome, 60 bp lines)
``genome.fa.gz.fai``  samtools faidx index; ``genome.fa.gz.gzi`` the bgzip block index
``annotation.parquet`` one row per transcript (a gene without transcripts: one row, ``transcript_id`` "")
``genome.json``       name, source file names, chromosomes (name, length), counts, chromosome map,
                      mismatches (annotation chromosomes not in the FASTA, FASTA chromosomes without genes)

``annotation.parquet`` columns (:data:`ANNOTATION_COLUMNS`):

``gene_id``        str, the gene's ID (``gene:`` / ``transcript:`` prefixes of Ensembl removed)
``transcript_id``  str, "" for a gene without transcript features
``chrom``          str, the chromosome's name **in the FASTA** (after ``--chrom-map``)
``strand``         str, ``+`` or ``-``
``start``, ``end`` int64, the transcript (else the gene) 0-based, end exclusive (GFF ``start - 1``, ``end``)
``gene_start``, ``gene_end``  int64, the gene's extent, same convention
``order``          int64, the transcript's rank within its gene in file order (0 = first)

Coordinates are 0-based, half-open throughout (BED).  The TSS is the first
transcribed base: ``start`` on ``+``, ``end - 1`` on ``-``.

Promoter windows (:func:`deepdife_core.genome.promoters.window`): ``U`` upstream and
``D`` downstream bases, ``U + D`` in all; on ``+`` the genome's ``[tss - U, tss + D)``;
on ``-`` the reverse complement of ``[tss - D + 1, tss + U + 1)``.  Bases beyond a
chromosome end are ``N`` (counted in the report).  Records are named
``GENE::Chr:start-end(strand)`` with ``start``/``end`` the window clipped to the
chromosome (0-based, end exclusive, as DeepDifE's promoter FASTAs), so the
Saliency page's genomic axis reads them.  Terminator windows
(``region="terminator"``) are the same around the transcription end site, the last
transcribed base (``end - 1`` on ``+``, ``start`` on ``-``): ``U`` bases up to and
including it, ``D`` after it.
"""

from __future__ import annotations

ANNOTATION_COLUMNS = (
    "gene_id",
    "transcript_id",
    "chrom",
    "strand",
    "start",
    "end",
    "gene_start",
    "gene_end",
    "order",
)
