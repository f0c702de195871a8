"""Learning-benchmark tasks: exact Markov fits, deterministic sets whose labels follow their rule."""

import numpy as np
import pytest

from deepdife_core.data import tasks
from deepdife_core.errors import DeepDifEInputError


def test_fit_markov_exact_counts():
    # "AAC" and its reverse complement "GTT"; order 1, no pseudocounts: A->A, A->C, G->T, T->T
    chain = tasks.fit_markov(["AAC"], order=1, pseudocount=0.0 + 1e-12)
    np.testing.assert_allclose(chain[0], [0.5, 0.5, 0.0, 0.0], atol=1e-9)  # after A
    np.testing.assert_allclose(chain[2], [0.0, 0.0, 0.0, 1.0], atol=1e-9)  # after G
    np.testing.assert_allclose(chain[3], [0.0, 0.0, 0.0, 1.0], atol=1e-9)  # after T
    np.testing.assert_allclose(chain[1], [0.25] * 4, atol=1e-9)  # C never has a successor


def test_fit_markov_skips_n_and_rows_sum_to_one():
    chain = tasks.fit_markov(["ACGTNNACGT", "acgtacgt"], order=2)
    assert chain.shape == (16, 4)
    np.testing.assert_allclose(chain.sum(axis=1), 1.0)


def test_sample_markov_follows_the_chain():
    chain = np.zeros((4, 4))
    chain[:, 1] = 1.0  # always C
    out = tasks.sample_markov(chain, 3, 20, np.random.default_rng(0))
    assert out.shape == (3, 20) and (out == 1).all()
    rich = tasks.sample_markov(tasks.at_rich_chain(0.8), 200, 300, np.random.default_rng(1))
    assert np.isin(rich, (0, 3)).mean() == pytest.approx(0.8, abs=0.01)


@pytest.mark.parametrize("task", tasks.TASKS)
def test_labels_follow_the_rule_and_seed(task):
    df = tasks.make_task(task, n_genes=120, length=400, label_noise=0.0, seed=3)
    assert len(df) == 120 and df["gene_id"].is_unique
    assert set(df["sequence"].str.len()) == {400}
    assert (df["label"] == df["true_label"]).all()
    assert 0.1 < df["label"].mean() < 0.7
    again = tasks.make_task(task, n_genes=120, length=400, label_noise=0.0, seed=3)
    assert again.equals(df)
    # families are point-mutated copies: members of one family differ at few positions
    fam = df.groupby("family")["sequence"].apply(list)
    big = next(m for m in fam if len(m) > 1)
    diff = np.mean([a != b for a, b in zip(big[0], big[1], strict=True)])
    assert diff < 0.1


def test_count_rule_reads_abre_cores_on_both_strands():
    df = tasks.make_task("count", n_genes=200, length=600, label_noise=0.0, seed=0)
    prox = df["sequence"].str[-400:]
    fwd = prox.str.count("ACGTG[GT]C")
    rev = prox.str.count("G[AC]CACGT")
    np.testing.assert_array_equal((fwd + rev >= 2).astype(int), df["true_label"])


def test_both_rule_is_an_and_of_the_two_elements_on_either_strand():
    df = tasks.make_task("both", n_genes=300, length=600, label_noise=0.0, seed=1)
    seq = df["sequence"]
    n_abre = seq.str.count("ACGTG[GT]C") + seq.str.count("G[AC]CACGT")
    n_ce = seq.str.count("CCGACAT") + seq.str.count("ATGTCGG")
    np.testing.assert_array_equal(((n_abre >= 1) & (n_ce >= 1)).astype(int), df["true_label"])
    # the negatives carry as many elements as the positives: counts alone do not separate the classes
    neg = df["true_label"] == 0
    assert ((n_abre + n_ce)[neg] == 2).mean() > 0.6 and ((n_abre + n_ce)[~neg] == 2).mean() > 0.8


def test_bad_arguments():
    with pytest.raises(DeepDifEInputError, match="unknown task"):
        tasks.make_task("nope")
    with pytest.raises(DeepDifEInputError, match="length"):
        tasks.make_task("count", length=100)
