"""``deepdife variants``: score the promoter variants of a VCF with a model (one row per allele, or per sample).

Registered by :func:`deepdife_core.cli.main.build_parser` through :func:`register`.
"""

from __future__ import annotations

import argparse

from deepdife_core.cli.common import check_out_file
from deepdife_core.data.io import read_gene_list
from deepdife_core.genome.promoters import TSS_CHOICES, PromoterConfig
from deepdife_core.variants import VariantConfig
from deepdife_core.variants.dask import scheduler_address
from deepdife_core.variants.run import score_variants, write_results

_V0 = VariantConfig()
_P0 = PromoterConfig()


def cmd_variants(args: argparse.Namespace, rep) -> int:
    """Run :func:`deepdife_core.variants.run.score_variants` and write its results.

    Parameters
    ----------
    args
        Parsed options.
    rep
        The CLI reporter.

    Returns
    -------
    int
        Exit code.
    """
    out = check_out_file(args.out)
    cfg = VariantConfig(
        max_indel=args.max_indel,
        motif_db="" if args.motif_db == "none" else args.motif_db,
        motif_pvalue=args.motif_pvalue,
        attribution=not args.no_attribution,
        batch_size=args.batch_size,
        genes_per_chunk=args.genes_per_chunk,
    )
    promoter = PromoterConfig(upstream=args.upstream, downstream=args.downstream, tss=args.tss)
    samples = [s.strip() for s in args.samples.split(",") if s.strip()] if args.samples else None
    address = scheduler_address(args.dask)
    rep.say(f"scoring promoter variants of {args.vcf}" + (f" on Dask {address}" if address else "") + " ...")
    result = score_variants(
        args.model,
        args.genome,
        args.vcf,
        genes=read_gene_list(args.genes) if args.genes else None,
        samples=samples,
        per_sample=args.per_sample,
        promoter=promoter,
        config=cfg,
        dask=address,
    )
    written = write_results(result, out)
    r = result.report
    rep.say(
        f"{len(result.effects)} alleles scored; skipped: {r.filtered} filtered (FILTER not PASS), "
        f"{r.symbolic} symbolic/structural, {r.long_indel} indels over {cfg.max_indel} bp, "
        f"{r.partial} partly outside a window, {len(r.ref_mismatch)} REF not the genome's"
    )
    for m in r.ref_mismatch[:5]:
        rep.say(f"REF mismatch (not scored): {m}")
    if result.missing_genes:
        rep.say("not in the annotation: " + ", ".join(result.missing_genes[:20]))
    rep.say("wrote " + ", ".join(str(p) for p in written))
    return 0


def register(sub, common: argparse.ArgumentParser) -> None:
    """Add ``variants`` to ``sub`` (the ``deepdife`` sub-parsers).

    Parameters
    ----------
    sub
        ``deepdife``'s sub-parsers, which ``variants`` joins.
    common
        The parent parser of common options.
    """
    v = sub.add_parser(
        "variants",
        parents=[common],
        help="score the promoter variants of a VCF (SNVs, indels up to --max-indel bp) with a model",
        description="Every ALT allele whose REF lies inside a promoter window (as deepdife promoters cuts it) is "
        "applied to the window, the window re-fitted to the model's length (5' trim / N pad) and predicted; "
        "one row per allele: gene_id, chrom, pos (1-based), ref, alt, distance_to_tss, p_ref, p_alt, "
        "delta_probability, delta_logit, attribution, motifs_lost, motifs_gained, carriers.",
    )
    v.add_argument("--model", required=True, help="model folder")
    v.add_argument("--genome", required=True, help="a genome registered with deepdife genome add")
    v.add_argument("--vcf", required=True, help="VCF (.vcf, or bgzipped .vcf.gz with a .tbi/.csi index)")
    v.add_argument("--genes", help="only these genes (one ID per line); default every gene")
    v.add_argument("--samples", help="comma-separated VCF sample names to use (default all)")
    v.add_argument("--per-sample", action="store_true", help="also the gene x sample matrix (OUT.samples.csv)")
    v.add_argument("--out", required=True, help="effect table, .csv or .parquet")
    v.add_argument("--upstream", type=int, default=_P0.upstream, help="bp upstream of the TSS (default %(default)s)")
    v.add_argument("--downstream", type=int, default=_P0.downstream, help="bp from the TSS on (default %(default)s)")
    v.add_argument(
        "--tss",
        choices=TSS_CHOICES,
        default=_P0.tss,
        help="which TSS (default %(default)s); all: every TSS window of a gene, each record named "
        "GENE::Chr:start-end(strand) as deepdife promoters --tss all names them",
    )
    v.add_argument("--max-indel", type=int, default=_V0.max_indel, help="longest indel scored (default %(default)s)")
    v.add_argument(
        "--motif-db",
        default=_V0.motif_db,
        help="motifs for the created/destroyed columns: jaspar-plants, a MEME file, or none (default %(default)s)",
    )
    v.add_argument(
        "--motif-pvalue", type=float, default=_V0.motif_pvalue, help="motif site p-value (default %(default)s)"
    )
    v.add_argument("--no-attribution", action="store_true", help="skip the attribution-at-the-site column")
    v.add_argument("--batch-size", type=int, default=_V0.batch_size, help="sequences per model call")
    v.add_argument(
        "--genes-per-chunk", type=int, default=_V0.genes_per_chunk, help="genes per work unit (default %(default)s)"
    )
    v.add_argument(
        "--dask",
        help="Dask scheduler address (tcp://host:8786) to spread gene chunks over its workers "
        "(default $DEEPDIFE_DASK, else in-process)",
    )
    v.set_defaults(func=cmd_variants)
