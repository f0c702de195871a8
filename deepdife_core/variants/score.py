"""Scoring: reference once per gene, every ALT and every sample haplotype in batched model calls."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from deepdife_core.data.encode import one_hot, reverse_complement
from deepdife_core.experiments.scoring import _logit_fn
from deepdife_core.genome.fasta import open_genome
from deepdife_core.genome.promoters import PromoterConfig, cut, sites, window
from deepdife_core.genome.registry import GENOME_FILE
from deepdife_core.interpret.explain import ExplainConfig, grad_x_input
from deepdife_core.motifs.scan import touching_hits, touching_snv_hits
from deepdife_core.variants import EFFECT_COLUMNS, VariantConfig
from deepdife_core.variants.apply import apply_alleles, model_input, model_span
from deepdife_core.variants.vcf import ReadReport, read_window


def member_logits(predictor, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Pre-sigmoid logits of every fold model on every strand.

    Parameters
    ----------
    predictor
        A :class:`~deepdife_core.model.cnn.Predictor`.
    x
        One-hot ``(N, L, 4)``.
    batch_size
        Sequences per model call.

    Returns
    -------
    numpy.ndarray
        float64 ``(M, S, N)``: ``M`` models, ``S`` = 2 strands for a conjoined model, else 1.
    """
    xp = predictor.prepare(x)
    strands = [xp]
    if predictor.config.conjoin:
        strands.append(np.ascontiguousarray(reverse_complement(xp)))
    out = np.zeros((len(predictor.models), len(strands), len(xp)), dtype=np.float64)
    for m, model in enumerate(predictor.models):
        fn = _logit_fn(model)
        for s, xs in enumerate(strands):
            for b in range(0, len(xs), batch_size):
                out[m, s, b : b + batch_size] = np.asarray(fn(xs[b : b + batch_size]))
    return out


def _sequence_logits(predictor, seqs: list[str], length: int, batch_size: int) -> np.ndarray:
    """:func:`member_logits` of DNA strings, one-hot encoded a few batches at a time (bounded memory)."""
    step = 8 * batch_size  # whole batches: the same model calls as encoding everything at once
    parts = [
        member_logits(predictor, one_hot(seqs[b : b + step], length), batch_size) for b in range(0, len(seqs), step)
    ]
    return np.concatenate(parts, axis=2)


def summarise(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Probability mean and sd over models (strand sigmoids averaged per model), and per-model logits.

    Parameters
    ----------
    z
        ``(M, S, N)`` logits.

    Returns
    -------
    tuple of numpy.ndarray
        ``p`` ``(N,)``, ``p_sd`` ``(N,)``, per-model conjoined logit ``(M, N)``.
    """
    pm = (1.0 / (1.0 + np.exp(-z))).mean(axis=1)
    return pm.mean(axis=0), pm.std(axis=0), z.mean(axis=1)


def motif_changes(
    db, pairs: list[tuple[str, str, int, int, int]], pvalue: float, *, group: int = 1024
) -> list[tuple[str, str]]:
    """Motifs lost and gained at each allele: best p-value over sites touching the allele crossing ``pvalue``.

    A site counts for a context when it lies wholly inside it and overlaps the allele
    (``start < offset + span`` and ``end > offset``, ``span`` = the allele's length, at least 1):
    exactly the hits :func:`~deepdife_core.motifs.scan.scan_sequences` reports for the context
    alone, found with :func:`~deepdife_core.motifs.scan.touching_hits` (no table per hit).

    Parameters
    ----------
    db
        A :class:`~deepdife_core.motifs.scan.ScanDatabase`.
    pairs
        Per allele ``(ref_context, alt_context, offset, ref_len, alt_len)``: local forward-strand
        sequences around the allele, which starts at ``offset`` in both.
    pvalue
        The site threshold.
    group
        Alleles handled together (bounds memory: ~100 kB per allele).

    Returns
    -------
    list of tuple of str, str
        ``motifs_lost``, ``motifs_gained`` per allele (``NAME (ID)``, ``; ``-joined, best first).
    """
    if not pairs:
        return []
    n = len(pairs)
    ids = np.array([m.id for m in db.motifs], dtype=object)
    _, uid = np.unique(ids.astype(str), return_inverse=True)  # motifs sharing an ID count as one
    n_uid = int(uid.max()) + 1
    mat_uid = uid[db.strand_motif]
    labels = [f"{db.motifs[k].name} ({db.motifs[k].id})" for k in db.strand_motif.tolist()]
    lost: list[list[tuple[float, str]]] = [[] for _ in range(n)]
    gained: list[list[tuple[float, str]]] = [[] for _ in range(n)]
    for g0 in range(0, n, max(int(group), 1)):
        part = pairs[g0 : g0 + group]
        k = len(part)
        # contexts: ref k, alt k + len(part); an SNV's pair is scored together (one seed lookup for both)
        snv = np.array([_is_snv(*p) for p in part], dtype=bool)
        one, other = np.flatnonzero(snv), np.flatnonzero(~snv)
        found = []
        if len(one):
            ref, alt = touching_snv_hits(
                [part[i][0] for i in one],
                [part[i][2] for i in one],
                [part[i][1][part[i][2]] for i in one],
                db,
                max_pvalue=pvalue,
                group=len(one),
            )
            found += [(ref, one), (alt, one + k)]
        if len(other):
            seqs = [part[i][0] for i in other] + [part[i][1] for i in other]
            off = np.array([part[i][2] for i in other] * 2, dtype=np.int64)
            span = np.array([part[i][3] for i in other] + [max(part[i][4], 1) for i in other], dtype=np.int64)
            found.append(
                (
                    touching_hits(seqs, off, span, db, max_pvalue=pvalue, group=2 * len(other)),
                    np.concatenate([other, other + k]),
                )
            )
        seq_idx = np.concatenate([where[h.seq_idx] for h, where in found])
        mat, start, pval = (np.concatenate([getattr(h, a) for h, _ in found]) for a in ("matrix", "start", "p_value"))
        # the best site of each (context, motif ID): the first in scan_sequences' order (p-value, start, matrix)
        order = np.lexsort((mat, start, pval, seq_idx))
        key = seq_idx[order] * n_uid + mat_uid[mat[order]]
        key, first = np.unique(key, return_index=True)
        best_p, best_mat = pval[order][first], mat[order][first]
        ctx, u = key // n_uid, key % n_uid
        allele = ctx % k
        key2 = allele * n_uid + u
        is_ref = ctx < k
        in_other = np.where(is_ref, np.isin(key2, key2[~is_ref]), np.isin(key2, key2[is_ref]))
        for r, al, p, mat in zip(*(x[~in_other].tolist() for x in (is_ref, allele, best_p, best_mat)), strict=True):
            (lost if r else gained)[g0 + al].append((p, labels[mat]))
    return [
        ("; ".join(v[1] for v in sorted(lo)), "; ".join(v[1] for v in sorted(ga)))
        for lo, ga in zip(lost, gained, strict=True)
    ]


def _is_snv(ref: str, alt: str, offset: int, ref_len: int, alt_len: int) -> bool:
    """Whether the alt context is the ref context with one base replaced, at ``offset``."""
    return (
        ref_len == alt_len == 1
        and len(ref) == len(alt)
        and 0 <= offset < len(ref)
        and ref[:offset] == alt[:offset]
        and ref[offset + 1 :] == alt[offset + 1 :]
    )


@dataclass(frozen=True)
class ChunkResult:
    """One chunk of genes: its effect rows, its haplotype rows (or None) and what reading skipped."""

    effects: pd.DataFrame
    haplotypes: pd.DataFrame | None
    report: ReadReport


def window_ids(s: pd.DataFrame, lo: np.ndarray, hi: np.ndarray, chrom_lengths: dict[str, int]) -> list[str]:
    """The record identity of each promoter window: the gene ID, or ``GENE::Chr:start-end(strand)``.

    A gene with several windows (``tss="all"``: alternative TSSs) names each by its
    coordinates, clipped to the chromosome, exactly as ``deepdife promoters`` names its
    records (:func:`deepdife_core.genome.promoters.extract`), so the effect table and the
    run's ``promoters.fa`` read back (:func:`deepdife_core.data.io.record_ids`) agree.

    Parameters
    ----------
    s : pandas.DataFrame
        ``gene_id, chrom, strand`` of each window (:func:`deepdife_core.genome.promoters.sites`).
    lo, hi : numpy.ndarray
        Window bounds (0-based, half open, possibly beyond the chromosome).
    chrom_lengths : dict of str to int
        Chromosome -> length.

    Returns
    -------
    list of str
        One identity per row of ``s``.
    """
    genes = s["gene_id"].astype(str).tolist()
    counts = pd.Series(genes).value_counts().to_dict() if genes else {}
    out = []
    for g, chrom, strand, a, b in zip(genes, s["chrom"], s["strand"], lo, hi, strict=True):
        if counts[g] > 1:
            g = f"{g}::{chrom}:{max(int(a), 0)}-{min(int(b), chrom_lengths[chrom])}({strand})"
        out.append(g)
    return out


def score_chunk(
    predictor,
    genome,
    vcf_path: str | Path,
    genes: list[str],
    *,
    promoter: PromoterConfig,
    config: VariantConfig,
    data_config,
    scan_db=None,
    per_sample: bool = False,
    samples: list[str] | None = None,
) -> ChunkResult:
    """Score the variants of ``genes``' promoter windows.

    Parameters
    ----------
    predictor
        A :class:`~deepdife_core.model.cnn.Predictor`.
    genome
        A :class:`~deepdife_core.genome.registry.Genome`.
    vcf_path
        An indexed VCF (:func:`~deepdife_core.variants.vcf.prepare_vcf`).
    genes
        Annotation gene IDs.
    promoter
        The window definition.
    config
        Reading and scoring options.
    data_config
        The model's :class:`~deepdife_core.config.DatasetConfig` (length, pad side).
    scan_db
        A prepared motif database, or None for empty motif columns.
    per_sample
        Also predict each sample's haplotype.
    samples
        Only these samples (None: all the VCF's).

    Returns
    -------
    ChunkResult
        Effects (:data:`EFFECT_COLUMNS`), haplotypes (``gene_id``, ``reference``, one column per sample).
    """
    import pysam

    length, side = int(data_config.length), data_config.pad_side
    report = ReadReport()
    s = sites(genome.annotation, genes, promoter)
    if promoter.tss != "all":
        s = s.drop_duplicates("gene_id")
    s = s.reset_index(drop=True)
    lo, hi = window(s["site"].to_numpy(), s["strand"].to_numpy(), promoter.upstream, promoter.downstream)
    s = s.assign(gene_id=window_ids(s, lo, hi, genome.chrom_lengths))
    width = promoter.upstream + promoter.downstream
    fa = open_genome(genome.folder / GENOME_FILE)
    vcf = pysam.VariantFile(str(vcf_path))
    if samples is not None:
        vcf.subset_samples(list(samples))
    samples = list(vcf.header.samples)
    ref_seqs, alt_seqs, alt_gene, rows, contexts, hap_seqs = [], [], [], [], [], []
    wmax = scan_db.max_width if scan_db is not None else 0
    gene_ids, chroms, strands, tsss = (s[c].tolist() for c in ("gene_id", "chrom", "strand", "site"))
    try:
        for g in range(len(s)):
            chrom, strand, tss = chroms[g], strands[g], int(tsss[g])
            a0, b0 = int(lo[g]), int(hi[g])
            fwd, _ = cut(fa, chrom, a0, b0, "+", genome.chrom_lengths[chrom])
            ref_seqs.append(model_input(fwd, strand, length, side))
            alleles = read_window(vcf, chrom, a0, b0, fwd, config.max_indel, report)
            for al in alleles:
                alt_seqs.append(model_input(apply_alleles(fwd, a0, [al]), strand, length, side))
                alt_gene.append(g)
                ws = model_span(al.pos0, len(al.ref), a0, width, strand, length, side)
                carriers = np.flatnonzero(al.carriers > 0)
                rows.append(
                    {
                        "gene_id": gene_ids[g],
                        "chrom": chrom,
                        "pos": al.pos0 + 1,
                        "ref": al.ref,
                        "alt": al.alt,
                        "variant_id": al.variant_id,
                        "distance_to_tss": (al.pos0 - tss) if strand == "+" else (tss - al.pos0),
                        "window_pos": ws[0] if ws[1] > ws[0] else -1,
                        "strand": strand,
                        "_span": ws,
                        "allele_count": int(al.carriers.sum()) if len(samples) else al.info_ac,
                        "n_samples": len(carriers),
                        "samples": ",".join(samples[c] for c in carriers),
                    }
                )
                if scan_db is not None:
                    i = al.pos0 - a0
                    left = fwd[max(i - wmax + 1, 0) : i]
                    right = fwd[i + len(al.ref) : i + len(al.ref) + wmax - 1]
                    contexts.append((left + al.ref + right, left + al.alt + right, len(left), len(al.ref), len(al.alt)))
            if per_sample:
                for k in range(len(samples)):
                    mine = [al for al in alleles if al.carriers[k] > 0]
                    hap_seqs.append(model_input(apply_alleles(fwd, a0, mine), strand, length, side))
    finally:
        vcf.close()
        fa.close()
    # the motif column (numpy, one core) runs in a thread while the model (which releases the GIL) predicts
    pool = ThreadPoolExecutor(max_workers=1) if scan_db is not None and rows else None
    changes = pool.submit(motif_changes, scan_db, contexts, config.motif_pvalue) if pool is not None else None
    try:
        return _predict_chunk(
            predictor,
            config,
            length,
            s,
            rows,
            ref_seqs,
            alt_seqs,
            alt_gene,
            hap_seqs,
            samples,
            per_sample,
            changes,
            report,
        )
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _predict_chunk(
    predictor, config, length, s, rows, ref_seqs, alt_seqs, alt_gene, hap_seqs, samples, per_sample, changes, report
) -> ChunkResult:
    """The model's columns of a read chunk (and the motif column, when ``changes`` brings it)."""
    n_genes = len(s)
    z_ref = _sequence_logits(predictor, ref_seqs, length, config.batch_size) if n_genes else None
    effects = _effect_frame(rows)
    if rows:
        idx = np.asarray(alt_gene)
        z_alt = _sequence_logits(predictor, alt_seqs, length, config.batch_size)
        zr = z_ref[:, :, idx]
        p_ref, p_ref_sd, l_ref = summarise(zr)
        p_alt, p_alt_sd, l_alt = summarise(z_alt)
        dl = l_alt - l_ref
        effects = effects.assign(
            p_ref=p_ref,
            p_alt=p_alt,
            p_ref_sd=p_ref_sd,
            p_alt_sd=p_alt_sd,
            delta_probability=p_alt - p_ref,
            delta_logit=dl.mean(axis=0),
            delta_logit_sd=dl.std(axis=0),
        )
        if config.attribution:
            used = np.unique(idx)
            att = grad_x_input(
                predictor,
                one_hot([ref_seqs[u] for u in used], length),
                config=ExplainConfig(batch_size=max(config.batch_size, 4)),
            )
            per_gene = dict(zip(used.tolist(), att.contrib.sum(axis=-1), strict=True))
            effects["attribution"] = [
                float(per_gene[g][a:b].sum())
                for g, (a, b) in zip(idx.tolist(), [r["_span"] for r in rows], strict=True)
            ]
        if changes is not None:
            ch = changes.result()
            effects["motifs_lost"] = [c[0] for c in ch]
            effects["motifs_gained"] = [c[1] for c in ch]
    haps = None
    if per_sample:
        p0 = summarise(z_ref)[0] if n_genes else np.zeros(0)
        ph = summarise(_sequence_logits(predictor, hap_seqs, length, config.batch_size))[0] if hap_seqs else np.zeros(0)
        haps = pd.DataFrame({"gene_id": s["gene_id"].astype(str), "reference": p0})
        mat = ph.reshape(n_genes, len(samples)) if samples else np.zeros((n_genes, 0))
        for k, name in enumerate(samples):
            haps[name] = mat[:, k]
    return ChunkResult(effects, haps, report)


def _effect_frame(rows: list[dict]) -> pd.DataFrame:
    n = len(rows)
    df = pd.DataFrame(rows).drop(columns="_span") if rows else pd.DataFrame(index=range(0))
    for c in EFFECT_COLUMNS:
        if c not in df:
            if c in (
                "motifs_lost",
                "motifs_gained",
                "samples",
                "gene_id",
                "chrom",
                "ref",
                "alt",
                "variant_id",
                "strand",
            ):
                df[c] = pd.Series([""] * n, dtype=object)
            elif c in ("pos", "distance_to_tss", "window_pos", "allele_count", "n_samples"):
                df[c] = pd.Series(np.zeros(n, np.int64))
            else:
                df[c] = pd.Series(np.full(n, np.nan))
    df = df[list(EFFECT_COLUMNS)]
    for c in ("pos", "distance_to_tss", "window_pos", "allele_count", "n_samples"):
        df[c] = df[c].astype(np.int64)
    return df
