"""``deepdife genome add|list|remove`` and ``deepdife promoters``: the genome registry and promoter extraction.

Registered by :func:`deepdife_core.cli.main.build_parser` through :func:`register`; the dataset
builders' ``--genome/--upstream/--downstream/--tss/--region`` come from :func:`add_genome_options`.
"""

from __future__ import annotations

import argparse

from deepdife_core.cli.common import check_out_file
from deepdife_core.data.io import read_gene_list, write_fasta
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.genome.promoters import REGIONS, TSS_CHOICES, PromoterConfig
from deepdife_core.genome.registry import GenomePromoters, add_genome, list_genomes, load_genome, remove_genome

_P0 = PromoterConfig()


def add_genome_options(p: argparse.ArgumentParser, *, required: bool = False) -> None:
    """``--genome N --upstream U --downstream D --tss T --region R`` (defaults from :class:`PromoterConfig`).

    Parameters
    ----------
    p
        The parser to extend.
    required
        Whether ``--genome`` is required (``promoters``) or optional (``dataset build``).
    """
    g = p.add_argument_group("promoters from a registered genome (instead of --fasta)")
    g.add_argument("--genome", required=required, help="a genome registered with deepdife genome add")
    g.add_argument("--upstream", type=int, default=_P0.upstream, help="bp upstream of the TSS (default %(default)s)")
    g.add_argument(
        "--downstream",
        type=int,
        default=_P0.downstream,
        help="bp from the TSS into the transcript, the TSS included (default %(default)s)",
    )
    g.add_argument(
        "--tss",
        choices=TSS_CHOICES,
        default=_P0.tss,
        help="which TSS: the gene's start, the first or longest transcript's, or all distinct ones (one record "
        "each, GENE::Chr:start-end(strand)) (default %(default)s)",
    )
    g.add_argument(
        "--region",
        choices=REGIONS,
        default=_P0.region,
        help="promoter (around the TSS), terminator (around the transcription end) or both concatenated "
        "(default %(default)s)",
    )


def promoter_config(args: argparse.Namespace) -> PromoterConfig:
    """The :class:`PromoterConfig` of parsed options.

    Parameters
    ----------
    args
        Parsed options with ``upstream, downstream, tss, region``.

    Returns
    -------
    PromoterConfig
        Validated.
    """
    return PromoterConfig(upstream=args.upstream, downstream=args.downstream, tss=args.tss, region=args.region)


def promoter_source(args: argparse.Namespace):
    """A :class:`~deepdife_core.genome.registry.GenomePromoters` for ``--genome`` (None without it).

    Parameters
    ----------
    args
        Parsed options.

    Returns
    -------
    GenomePromoters or None
        The builders' ``promoters=`` argument.
    """
    if not getattr(args, "genome", None):
        return None

    load_genome(args.genome)  # a missing genome fails here, before any other file is read
    return GenomePromoters(args.genome, promoter_config(args))


def cmd_genome_add(args: argparse.Namespace, rep) -> int:
    """Run ``deepdife genome add``: register a genome (FASTA + annotation) and describe it.

    Parameters
    ----------
    args : argparse.Namespace
        The ``genome add`` options as parsed.
    rep : Reporter
        Progress lines on stderr.

    Returns
    -------
    int
        0 when ``genome add`` is done; bad input raises, :func:`deepdife_core.cli.main.main` exits 2.
    """
    rep.say(f"registering {args.name}: indexing {args.fasta}, parsing {args.annotation} ...")
    info = add_genome(args.name, args.fasta, args.annotation, chrom_map=args.chrom_map, overwrite=args.overwrite)
    rep.say(_describe(info))
    return 0


def _describe(info: dict) -> str:
    mm = info["mismatches"]
    text = (
        f"genome {info['name']}: {len(info['chromosomes'])} chromosomes, {info['n_genes']} genes, "
        f"{info['n_transcripts']} transcripts ({info['format']})"
    )
    if info.get("chrom_map"):
        text += "; chromosome map " + ",".join(f"{a}={b}" for a, b in info["chrom_map"].items())
    if mm["annotation_only"]:
        text += (
            f"; annotation chromosomes not in the FASTA: {', '.join(mm['annotation_only'][:8])} "
            f"({mm['genes_dropped']} genes left out)"
        )
    if mm["fasta_only"]:
        text += f"; FASTA records without genes: {', '.join(mm['fasta_only'][:8])}"
    return text


def cmd_genome_list(args: argparse.Namespace, rep) -> int:
    """Run ``deepdife genome list``: print the registered genomes as a tab-separated table on stdout.

    Parameters
    ----------
    args : argparse.Namespace
        The ``genome list`` options as parsed.
    rep : Reporter
        Progress lines on stderr.

    Returns
    -------
    int
        0 when ``genome list`` is done; bad input raises, :func:`deepdife_core.cli.main.main` exits 2.
    """
    table = list_genomes()
    if table.empty:
        rep.say("no genome registered; add one with deepdife genome add --name N --fasta F --annotation A")
        return 0
    print(table.to_csv(sep="\t", index=False), end="")
    return 0


def cmd_genome_remove(args: argparse.Namespace, rep) -> int:
    """Run ``deepdife genome remove``: remove a registered genome.

    Parameters
    ----------
    args : argparse.Namespace
        The ``genome remove`` options as parsed.
    rep : Reporter
        Progress lines on stderr.

    Returns
    -------
    int
        0 when ``genome remove`` is done; bad input raises, :func:`deepdife_core.cli.main.main` exits 2.
    """
    remove_genome(args.name)
    rep.say(f"removed genome {args.name}")
    return 0


def cmd_promoters(args: argparse.Namespace, rep) -> int:
    """Run ``deepdife promoters``: cut promoters of ``--genes`` (or ``--all``) from a genome to a FASTA file.

    Parameters
    ----------
    args : argparse.Namespace
        The ``promoters`` options as parsed.
    rep : Reporter
        Progress lines on stderr.

    Returns
    -------
    int
        0 when ``promoters`` is done; bad input raises, :func:`deepdife_core.cli.main.main` exits 2.
    """
    if bool(args.genes) == bool(args.all):
        raise DeepDifEInputError("give either --genes IDS.txt (one gene ID per line) or --all")
    out = check_out_file(args.out)
    cfg = promoter_config(args)
    genome = load_genome(args.genome)
    ids = read_gene_list(args.genes) if args.genes else None
    records, report = genome.promoters(ids, cfg)
    write_fasta([(r.header, r.sequence) for r in records], out)
    rep.say(report.summary())
    if report.missing:
        rep.say(
            "not in the annotation: " + ", ".join(report.missing[:20]) + (" ..." if len(report.missing) > 20 else "")
        )
    rep.say(f"wrote {len(records)} records to {out}")
    return 0


def register(sub, common: argparse.ArgumentParser) -> None:
    """Add ``genome`` and ``promoters`` to ``sub`` (the ``deepdife`` sub-parsers).

    Parameters
    ----------
    sub
        ``deepdife``'s sub-parsers, which ``genome`` joins.
    common
        The parent parser of common options.
    """
    g = sub.add_parser(
        "genome",
        parents=[common],
        help="register, list or remove genomes (FASTA + GFF3/GTF) in the workspace",
        description="The genome registry in $DEEPDIFE_WORKSPACE/genomes/<name>/: a bgzip-indexed copy of the "
        "FASTA and the annotation parsed once into annotation.parquet.",
    )
    gs = g.add_subparsers(dest="genome_command", required=True, metavar="ACTION")
    a = gs.add_parser("add", parents=[common], help="register a genome FASTA + annotation")
    a.add_argument("--name", required=True, help="registry name, e.g. TAIR10")
    a.add_argument("--fasta", required=True, help="genome FASTA (.fa, .fa.gz or bgzip .fa.bgz)")
    a.add_argument("--annotation", required=True, help="GFF3 or GTF (plain or .gz)")
    a.add_argument(
        "--chrom-map",
        help="when chromosome names differ: ANNOTATION=FASTA pairs (1=Chr1,2=Chr2), a two-column file, or 'auto'",
    )
    a.add_argument("--overwrite", action="store_true", help="replace a genome registered under that name")
    a.set_defaults(func=cmd_genome_add)
    ls = gs.add_parser("list", parents=[common], help="the registered genomes (TSV on stdout)")
    ls.set_defaults(func=cmd_genome_list)
    rm = gs.add_parser("remove", parents=[common], help="delete a registered genome")
    rm.add_argument("name", help="registry name")
    rm.set_defaults(func=cmd_genome_remove)

    p = sub.add_parser(
        "promoters",
        parents=[common],
        help="cut promoters of listed (or all) genes from a registered genome into a FASTA",
        description="Each record is UPSTREAM + DOWNSTREAM bp: on the plus strand genome[tss-U, tss+D) (0-based, "
        "tss = GFF start - 1), on the minus strand the reverse complement of genome[tss-D+1, tss+U+1) "
        "(tss = GFF end - 1); bases beyond a chromosome end are N; headers GENE::Chr:start-end(strand).",
    )
    p.add_argument("--genes", help="gene (or transcript) IDs, one per line")
    p.add_argument("--all", action="store_true", help="every gene of the annotation")
    p.add_argument("--out", required=True, help="output FASTA")
    add_genome_options(p, required=True)
    p.set_defaults(func=cmd_promoters)
