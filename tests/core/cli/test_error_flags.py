"""Library errors speak of values; the command line says them with its flags (``cli.main.PARAMETER_FLAGS``).

The library's messages name parameters (``n_trials must be >= 1, got 0``, ``... or pass
overwrite=True``); ``deepdife``'s error handler rewrites them with one table, so what a user
of the command line reads is unchanged (``error: --trials must be >= 1, got 0``).
"""

from __future__ import annotations

import pandas as pd
import pytest

from deepdife_core.cli import main as cli_main
from deepdife_core.cli.main import PARAMETER_FLAGS, flag_words, main
from deepdife_core.data.io import read_orthologs
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import acquire_claim
from deepdife_core.motifs.modisco import load_motif_database
from deepdife_core.train.fit import _check_out
from deepdife_core.tune.study import SearchSpace, run_study

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
            _raises(acquire_claim, tmp_path / "m"),
            f"{tmp_path / 'm'} already exists; choose another name or pass --overwrite",
        )
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
