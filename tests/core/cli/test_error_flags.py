"""Library errors speak of values; the command line says them with its flags (``cli.main.PARAMETER_FLAGS``).

The library's messages name parameters (``n_trials must be >= 1, got 0``, ``... or pass
overwrite=True``); ``deepdife``'s error handler rewrites them with one table, so what a user
of the command line reads is unchanged (``error: --trials must be >= 1, got 0``).
"""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from deepdife_core.cli import main as cli_main
from deepdife_core.cli.main import PARAMETER_FLAGS, flag_words, main
from deepdife_core.config import TrainConfig
from deepdife_core.data.io import DECOMPRESSED_ENV, read_gene_list, read_orthologs
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import acquire_claim
from deepdife_core.genome.chroms import parse_chrom_map
from deepdife_core.genome.promoters import REGIONS, TSS_CHOICES, PromoterConfig
from deepdife_core.genome.registry import load_genome
from deepdife_core.motifs.modisco import load_motif_database
from deepdife_core.train.fit import _check_out
from deepdife_core.tune.study import SearchSpace, run_study
from deepdife_core.variants import VariantConfig
from deepdife_core.variants.run import VariantResult, score_variants, write_results
from deepdife_core.variants.vcf import ReadReport

#: (the library's message, what the command line says)
CASES = [
    ("n_trials must be >= 1, got 0", "--trials must be >= 1, got 0"),
    ("workers must be >= 1, got 0", "--workers must be >= 1, got 0"),
    ("m already exists; choose another name or pass overwrite=True", "m already exists; choose another name or pass --overwrite"),
    ("study 's' has no recorded data table here; pass data=TABLE", "study 's' has no recorded data table here; pass --data TABLE"),
    ("data=/tmp/missing.csv: file not found", "--data /tmp/missing.csv: file not found"),
    ("study 's' is stored at x (password not recorded); pass storage=URL", "study 's' is stored at x (password not recorded); pass --storage URL"),
    ("study 's' exists with a different search space; choose another study name", "study 's' exists with a different search space; choose another --study name"),
    ("phylo_rate is searched but no orthologs were given; add orthologs=...", "phylo_rate is searched but no orthologs were given; add --orthologs"),
    ("PhyloAug needs the orthologs' promoter FASTA: add fastas=FILE", "PhyloAug needs the orthologs' promoter FASTA: add --ortholog-fasta FILE"),
    ("a JASPAR release only applies to spec=jaspar-plants", "a JASPAR release only applies to --motif-db jaspar-plants"),
    ("x.fa.gz: decompresses to more than 2 MB; raise the limit with DEEPDIFE_MAX_DECOMPRESSED_MB=MB or give the file uncompressed", "x.fa.gz: decompresses to more than 2 MB; raise the limit with DEEPDIFE_MAX_DECOMPRESSED_MB=MB (deepdife --max-decompressed-mb MB) or give the file uncompressed"),
    ("chrom_map 9=Chr9: neither '9' nor 'Chr9' is a chromosome of a.gff3", "--chrom-map 9=Chr9: neither '9' nor 'Chr9' is a chromosome of a.gff3"),
    ("register again with chrom_map 1=Chr1,2=Chr2 (or chrom_map auto)", "register again with --chrom-map 1=Chr1,2=Chr2 (or --chrom-map auto)"),
    ("upstream and downstream must be whole numbers of bp", "--upstream and --downstream must be whole numbers of bp"),
    ("upstream=-1 downstream=100: give bp >= 0, together at least 1", "--upstream -1 --downstream 100: give bp >= 0, together at least 1"),
    ("upstream + downstream is over 100,000 bp; a promoter window is shorter", "--upstream + --downstream is over 100,000 bp; a promoter window is shorter"),
    ("tss='exon': use one of gene, first-transcript, longest-transcript", "--tss 'exon': use one of gene, first-transcript, longest-transcript"),
    ("region='exon': use one of promoter, gene_body", "--region 'exon': use one of promoter, gene_body"),
    ("no genome 'N' is registered; register it first (a name, the genome FASTA and its annotation)", "no genome 'N' is registered; add it with deepdife genome add --name NAME --fasta GENOME.fa --annotation GENES.gff3"),
    ("max_indel must be >= 0 bp, got -1", "--max-indel must be >= 0 bp, got -1"),
    ("motif_pvalue must be in (0, 1], got 2", "--motif-pvalue must be in (0, 1], got 2"),
    ("batch_size and genes_per_chunk must be >= 1", "--batch-size and --genes-per-chunk must be >= 1"),
    ("VCF a.vcf: per_sample needs genotypes, and it has no samples", "VCF a.vcf: --per-sample needs genotypes, and it has no samples"),
    ("dask needs a model folder (each worker loads it)", "--dask needs a model folder (each worker loads it)"),
    ("dask=tcp://h:8786: no Dask scheduler answers there (refused)", "--dask tcp://h:8786: no Dask scheduler answers there (refused)"),
    ("out=effects.txt: give a .csv or .parquet file name", "--out effects.txt: give a .csv or .parquet file name"),
    ("try_heads must name heads out of flatten, global_max, region_max, global_region, got ['x']", "--try-heads must name heads out of flatten, global_max, region_max, global_region, got ['x']"),
]  # fmt: skip

#: messages that name no parameter: words, paths and flags are left as they are
UNTOUCHED = [
    "x.fa: binary data, not a FASTA; give the genome FASTA",
    "--trials must be >= 1, got 0",
    "--data missing.csv: file not found",
    "--out /tmp/data=1/overwrite=True: folder does not exist",
    "3 workers are busy",
    "metadata=1 is not a field",
    "n_trials_max must be >= 1",
    "the orthologs were dropped",
    "batch_size must be >= 1, got 0",
    "500 bp upstream + 100 downstream of the TSS",
    "the upstream region of gene_x_per_sample",
    "pos_from_tss=5 is out of range",
    "no Dask scheduler; the dask package is not needed",
    "DEEPDIFE_MAX_DECOMPRESSED_MB='x' is not a positive number of megabytes",
]


@pytest.mark.parametrize(("library", "cli"), CASES)
def test_flag_words_names_the_flags(library, cli):
    assert flag_words(library) == cli


@pytest.mark.parametrize("message", UNTOUCHED)
def test_flag_words_leaves_other_text(message):
    assert flag_words(message) == message


def test_every_table_entry_is_used():
    """No dead entry: each key of the table is in a case above."""
    unused = [key for key in PARAMETER_FLAGS if not any(key in library for library, _ in CASES)]
    assert not unused


def _raises(fn, *args, **kwargs) -> str:
    with pytest.raises(DeepDifEInputError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def _library_errors(tmp_path) -> list[tuple[str, str]]:
    """(the library's own message, the CLI's words for it), raised by the library itself."""
    (tmp_path / "m").mkdir()
    ws = tmp_path / "ws"
    pairs = [
        (
            _raises(TrainConfig, try_heads=("x",)),
            "--try-heads must name heads out of flatten, global_max, region_max, global_region, got ['x']",
        ),
        (
            _raises(acquire_claim, tmp_path / "m"),
            f"{tmp_path / 'm'} already exists; choose another name or pass --overwrite",
        ),
    ]
    pairs.append(
        (
            _raises(_check_out, tmp_path / "m", False),
            f"{tmp_path / 'm'} already exists; choose another name or pass --overwrite",
        )
    )
    pairs.append((_raises(run_study, "s", 0, workspace=ws), "--trials must be >= 1, got 0"))
    pairs.append((_raises(run_study, "s", 1, workers=0, workspace=ws), "--workers must be >= 1, got 0"))
    pairs.append(
        (
            _raises(run_study, "s", 1, data=tmp_path / "missing.csv", workspace=ws, quiet=True),
            f"--data {tmp_path / 'missing.csv'}: file not found",
        )
    )
    pairs.append(
        (
            _raises(SearchSpace().free("phylo_rate").check_for, 600, has_orthologs=False),
            "phylo_rate is searched but no orthologs were given; add --orthologs",
        )
    )
    orthologs = pd.DataFrame({"gene_id": ["a"], "ortholog_id": ["b"]})
    pairs.append(
        (
            _raises(read_orthologs, orthologs, []),
            "PhyloAug needs the orthologs' promoter FASTA: add --ortholog-fasta FILE",
        )
    )
    pairs.append(
        (
            _raises(load_motif_database, tmp_path / "x.meme", release="2024"),
            "a JASPAR release only applies to --motif-db jaspar-plants",
        )
    )
    pairs += [
        (_raises(PromoterConfig, upstream=1.5), "--upstream and --downstream must be whole numbers of bp"),
        (_raises(PromoterConfig, upstream=-1), "--upstream -1 --downstream 100: give bp >= 0, together at least 1"),
        (
            _raises(PromoterConfig, upstream=100_000),
            "--upstream + --downstream is over 100,000 bp; a promoter window is shorter",
        ),
        (_raises(PromoterConfig, tss="exon"), f"--tss 'exon': use one of {', '.join(TSS_CHOICES)}"),
        (_raises(PromoterConfig, region="exon"), f"--region 'exon': use one of {', '.join(REGIONS)}"),
        (_raises(VariantConfig, max_indel=-1), "--max-indel must be >= 0 bp, got -1"),
        (_raises(VariantConfig, motif_pvalue=2.0), "--motif-pvalue must be in (0, 1], got 2.0"),
        (_raises(VariantConfig, genes_per_chunk=0), "--batch-size and --genes-per-chunk must be >= 1"),
        (
            _raises(parse_chrom_map, "1:Chr1"),
            "--chrom-map '1:Chr1': use ANNOTATION=FASTA pairs separated by commas "
            "(e.g. 1=Chr1,2=Chr2), a two-column file or 'auto'",
        ),
        (
            _raises(load_genome, "NOPE", ws),
            "no genome 'NOPE' is registered; add it with deepdife genome add --name NAME --fasta GENOME.fa "
            "--annotation GENES.gff3",
        ),
        (
            _raises(write_results, VariantResult(pd.DataFrame(), None, ReadReport()), tmp_path / "e.txt"),
            f"--out {tmp_path / 'e.txt'}: give a .csv or .parquet file name",
        ),
        (
            _raises(score_variants, "m", "g", "v.vcf", promoter=PromoterConfig(region="terminator")),
            "variants are scored in promoter windows; use --region promoter",
        ),
    ]
    bomb = tmp_path / "bomb.txt.gz"
    bomb.write_bytes(gzip.compress(b"A" * (3 * 1024**2)))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(DECOMPRESSED_ENV, "1")
        library = _raises(read_gene_list, bomb)
    pairs.append(
        (
            library,
            library.replace(f"{DECOMPRESSED_ENV}=MB", f"{DECOMPRESSED_ENV}=MB (deepdife --max-decompressed-mb MB)"),
        )
    )
    return pairs


def test_library_errors_speak_of_values_and_the_cli_of_flags(tmp_path, monkeypatch, capsys):
    """Each message raised by the library names no flag; through ``deepdife`` it reads as before."""
    for library, cli in _library_errors(tmp_path):
        assert " --" not in library and not library.startswith("--"), library

        def fail(args, rep, message=library):
            raise DeepDifEInputError(message)

        monkeypatch.setattr(cli_main, "cmd_dataset_check", fail)  # any command: the handler is main()'s
        assert main(["dataset", "check", "any.csv"]) == 2
        assert capsys.readouterr().err == f"error: {cli}\n"


def test_tune_without_data_names_the_flag(tmp_path, capsys):
    """A real run: the library's "pass data=TABLE" reaches the user as "pass --data TABLE"."""
    code = main(["tune", "--study", "s", "--trials", "1", "--workspace", str(tmp_path), "--quiet"])
    assert code == 2
    assert capsys.readouterr().err == "error: study 's' has no recorded data table here; pass --data TABLE\n"


def test_motifs_release_with_a_meme_file_names_the_flag(tmp_path, capsys):
    meme = tmp_path / "db.meme"
    meme.write_text("MEME version 4\n")
    args = ["motifs", "--model", str(tmp_path / "model"), "--fasta", str(tmp_path / "p.fa"), "--out"]
    code = main([*args, str(tmp_path / "run"), "--motif-db", str(meme), "--jaspar-release", "2024", "--quiet"])
    assert code == 2
    assert capsys.readouterr().err == "error: a JASPAR release only applies to --motif-db jaspar-plants\n"
