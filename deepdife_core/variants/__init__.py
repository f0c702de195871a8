"""Variant effects: promoter variants of a VCF scored with a DeepDifE model, per variant or per sample.

Data contract
-------------
Input: a VCF (plain ``.vcf`` or bgzipped ``.vcf.gz`` with a tabix/CSI index; a plain or
unindexed file is bgzipped + indexed into a temporary folder, which needs it sorted),
read with :class:`pysam.VariantFile` by region queries, one per promoter window.  Windows
are those of :mod:`deepdife_core.genome.promoters` (``GENE::Chr:start-end(strand)``,
``upstream``/``downstream`` around the TSS); a variant is scored when its REF lies wholly
inside a window.  Multi-allelic records are split (one row per ALT); records with a
FILTER other than ``PASS``/``.`` are skipped and counted; symbolic (``<DEL>``, ``*``,
breakends) and indels longer than ``max_indel`` bp are skipped and counted; a REF that
disagrees with the genome is reported per record (:attr:`~deepdife_core.variants.score.ScanReport.ref_mismatch`),
never scored.

The edited window (forward genome strand: REF replaced by ALT; then reverse-complemented
on ``-``) is fitted to the model's length with :func:`deepdife_core.data.encode.pad_or_trim`
and the model's saved :class:`~deepdife_core.config.DatasetConfig` (5' trimming / N
padding by default, as every other DeepDifE input).

Effect table (:data:`EFFECT_COLUMNS`), one row per scored variant, genes in the order
asked for, variants by position:

``gene_id``            str, the record identity: the gene ID, or ``GENE::Chr:start-end(strand)`` per TSS
                       window of a gene with several (``tss="all"``), as ``deepdife promoters`` names them
``chrom``              str, the VCF's (= the genome's) chromosome
``pos``                int64, 1-based, as in the VCF
``ref``, ``alt``       str
``variant_id``         str, the VCF ID column (``.`` if none)
``distance_to_tss``    int64, ``pos - 1 - tss`` along the gene's strand (negative upstream; 0 = the TSS)
``window_pos``         int64, 0-based position of the REF's first base in the model input (5'->3'; -1 if trimmed off)
``strand``             str, the gene's strand (``+``/``-``): on ``-`` the model input holds REF/ALT reverse-complemented
``p_ref``, ``p_alt``   float64, probability (conjoined strands, mean over fold models)
``p_ref_sd``, ``p_alt_sd``  float64, sd over fold models (0 for one model)
``delta_probability``  float64, ``p_alt - p_ref``
``delta_logit``        float64, mean over models and strands of the pre-sigmoid logit change
``delta_logit_sd``     float64, its sd over fold models
``attribution``        float64, gradient x input of the reference logit summed over the REF's bases
``motifs_lost``, ``motifs_gained``  str, ``NAME (ID)`` of motifs whose best p-value over windows
                       touching the allele crosses ``motif_pvalue`` (ref -> alt), ``; ``-joined, best first
``allele_count``       int64, ALT copies over the samples' genotypes (INFO AC if there are no samples)
``n_samples``          int64, samples carrying the ALT; ``samples``: their names, ``,``-joined

Haplotypes (:func:`deepdife_core.variants.haplotypes.sample_matrix`): gene x sample
probabilities, each sample's scored ALT alleles (any copy) applied together, overlapping
later ones dropped; the ``reference`` column is the unedited window.
"""

from __future__ import annotations

from dataclasses import dataclass

from deepdife_core.errors import DeepDifEInputError

EFFECT_COLUMNS = (
    "gene_id",
    "chrom",
    "pos",
    "ref",
    "alt",
    "variant_id",
    "distance_to_tss",
    "window_pos",
    "strand",
    "p_ref",
    "p_alt",
    "p_ref_sd",
    "p_alt_sd",
    "delta_probability",
    "delta_logit",
    "delta_logit_sd",
    "attribution",
    "motifs_lost",
    "motifs_gained",
    "allele_count",
    "n_samples",
    "samples",
)


@dataclass(frozen=True)
class VariantConfig:
    """How variants are read and scored.

    Attributes
    ----------
    max_indel
        Longest indel scored (bp of REF/ALT length difference or allele length).
    motif_db
        ``"jaspar-plants"``, a MEME file, or ``""`` for no motif-change columns.
    motif_pvalue
        p-value threshold of a motif site (FIMO-style, :mod:`deepdife_core.motifs.scan`).
    attribution
        Whether to compute the attribution at the site (one gradient per gene).
    batch_size
        Sequences per model call.
    genes_per_chunk
        Genes per work unit (in-process and on Dask workers alike).
    """

    max_indel: int = 50
    motif_db: str = "jaspar-plants"
    motif_pvalue: float = 1e-4
    attribution: bool = True
    batch_size: int = 1024
    genes_per_chunk: int = 500

    def __post_init__(self) -> None:
        if self.max_indel < 0:
            raise DeepDifEInputError(f"max_indel must be >= 0 bp, got {self.max_indel}")
        if not 0 < self.motif_pvalue <= 1:
            raise DeepDifEInputError(f"motif_pvalue must be in (0, 1], got {self.motif_pvalue}")
        if self.batch_size < 1 or self.genes_per_chunk < 1:
            raise DeepDifEInputError("batch_size and genes_per_chunk must be >= 1")
