"""Tests of ``deepdife_core.cli.genome`` (moved from ``tests/core/test_genome.py``)."""

import numpy as np
import pandas as pd
import pytest

from deepdife_core.data.io import read_fasta
from deepdife_core.genome.registry import list_genomes
from deepdife_core.genome.synthetic import make_genome
from tests.core.genome import helpers as genome_helpers
from tests.core.genome.helpers import chromosomes, run

ws = genome_helpers.ws  # the genome room's fixture (also in tests/core/genome/conftest.py)


def test_cli_genome_add_list_remove_promoters_and_dataset_build(tmp_path, ws, capsys):
    fa, an, truth = make_genome(tmp_path / "in", compress="bgzip", seed=5)
    code, _, err = run(["genome", "add", "--name", "TAIR10", "--fasta", fa, "--annotation", an], capsys)
    assert code == 0, err
    assert "genome TAIR10: 3 chromosomes, 24 genes" in err
    code, out, _ = run(["genome", "list"], capsys)
    assert out.splitlines()[1].startswith("TAIR10\t3\t24\t")
    ids = tmp_path / "ids.txt"
    ids.write_text("gene\n" + "\n".join(truth["gene_id"].unique()[:5]) + "\nAT9G99990\n")
    out_fa = tmp_path / "p.fa"
    args = ["promoters", "--genome", "TAIR10", "--genes", ids, "--upstream", "1000", "--downstream", "500"]
    code, _, err = run([*args, "--out", out_fa], capsys)
    assert code == 0, err
    assert "1 not in the annotation (AT9G99990)" in err
    recs = read_fasta(out_fa)
    assert len(recs) == 5 and all(len(r.sequence) == 1500 for r in recs)
    assert all(r.header.startswith(r.id) and "::Chr" in r.id for r in recs)
    code, _, err = run(["promoters", "--genome", "TAIR10", "--all", "--out", tmp_path / "all.fa"], capsys)
    assert code == 0 and len(read_fasta(tmp_path / "all.fa")) == 24
    genes = truth["gene_id"].unique().tolist()
    (tmp_path / "up.txt").write_text("\n".join(genes[:12]))
    (tmp_path / "flat.txt").write_text("\n".join(genes[12:]))
    build = ["dataset", "build", "--responsive", tmp_path / "up.txt", "--non-responsive", tmp_path / "flat.txt"]
    code, _, err = run([*build, "--genome", "TAIR10", "--out", tmp_path / "d.csv"], capsys)
    assert code == 0, err
    d = pd.read_csv(tmp_path / "d.csv")
    assert len(d) == 18 and "6 dropped for too many N" in err  # 6 edge genes' windows are > 50% past an end
    assert d["sequence"].str.len().eq(600).all() and d["coords"].notna().all()
    code, _, err = run([*build, "--genome", "NOPE", "--out", tmp_path / "e.csv"], capsys)
    assert code == 2 and "no genome 'NOPE' is registered (registered: TAIR10)" in err
    assert not (tmp_path / "e.csv").exists()
    code, _, err = run([*build, "--genome", "TAIR10", "--fasta", out_fa, "--out", tmp_path / "e.csv"], capsys)
    assert code == 2 and "either --fasta" in err
    code, _, err = run(["promoters", "--genome", "TAIR10", "--out", tmp_path / "x.fa"], capsys)
    assert code == 2 and "--genes IDS.txt" in err
    code, _, err = run(["genome", "add", "--name", "TAIR10", "--fasta", fa, "--annotation", an], capsys)
    assert code == 2 and "already registered" in err
    code, _, err = run(["genome", "remove", "TAIR10"], capsys)
    assert code == 0 and list_genomes().empty
    code, _, err = run(["genome", "remove", "TAIR10"], capsys)
    assert code == 2 and "no genome 'TAIR10'" in err


@pytest.mark.slow
def test_round_trip_genome_promoters_dataset_train_predict(tmp_path, ws, capsys):
    """genome -> dataset (gene lists) -> train (tiny) -> predict on promoters cut by `deepdife promoters`."""
    rng = np.random.default_rng(0)
    fa, an, truth = make_genome(tmp_path / "in", chrom_lengths=(60_000, 50_000, 40_000), n_genes=120, seed=6)
    # plant an ABRE-like motif in the promoters of the first 60 genes so there is something to learn
    seqs = chromosomes(fa)
    genes = truth.drop_duplicates("gene_id")
    for r in genes.iloc[:60].itertuples():
        tss = r.start if r.strand == "+" else r.end - 1
        motif = "CCACGTGGCA" if r.strand == "+" else "TGCCACGTGG"
        at = tss - 80 if r.strand == "+" else tss + 70
        if at >= 0 and at + 10 <= len(seqs[r.chrom]):
            s = seqs[r.chrom]
            seqs[r.chrom] = s[:at] + motif + s[at + 10 :]
    fa.write_text("".join(f">{c}\n{s}\n" for c, s in seqs.items()))
    assert run(["genome", "add", "--name", "g", "--fasta", fa, "--annotation", an], capsys)[0] == 0
    ids = genes["gene_id"].tolist()
    order = rng.permutation(len(ids))
    (tmp_path / "up.txt").write_text("\n".join(ids[:60]))
    (tmp_path / "flat.txt").write_text("\n".join(ids[60:]))
    build = ["dataset", "build", "--responsive", tmp_path / "up.txt", "--non-responsive", tmp_path / "flat.txt"]
    assert run([*build, "--genome", "g", "--out", tmp_path / "d.csv"], capsys)[0] == 0
    code, _, err = run(
        ["train", "--data", tmp_path / "d.csv", "--out", tmp_path / "m", "--epochs", "2", "--no-evoaug", "--seed", "0"],
        capsys,
    )
    assert code == 0, err
    (tmp_path / "some.txt").write_text("\n".join(ids[i] for i in order[:10]))
    assert (
        run(["promoters", "--genome", "g", "--genes", tmp_path / "some.txt", "--out", tmp_path / "p.fa"], capsys)[0]
        == 0
    )
    code, _, err = run(
        ["predict", "--model", tmp_path / "m", "--fasta", tmp_path / "p.fa", "--out", tmp_path / "pr.csv"], capsys
    )
    assert code == 0, err
    pred = pd.read_csv(tmp_path / "pr.csv")
    assert len(pred) == 10 and pred["probability"].between(0, 1).all()
    assert set(pred["gene_id"].str.split("::").str[0]) == {ids[i] for i in order[:10]}
