"""The k-mer baseline: exact canonical counts, and a fit on the CNN's own split."""

import numpy as np
import pytest

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.train.baseline import BaselineConfig, fit_kmer_baseline, kmer_counts, kmer_names


def test_canonical_names():
    assert kmer_names([1]) == ["A", "C"]
    assert len(kmer_names([2])) == 10 and len(kmer_names([6])) == 2080


def test_counts_merge_a_kmer_with_its_reverse_complement():
    names = kmer_names([2])
    x = kmer_counts(["AACGTT", "AANTT"], ks=[2])
    row = dict(zip(names, x[0], strict=True))
    # AA, AC, CG, GT(=AC), TT(=AA)
    assert row == {**dict.fromkeys(names, 0.0), "AA": 2.0, "AC": 2.0, "CG": 1.0}
    row2 = dict(zip(names, x[1], strict=True))
    assert row2["AA"] == 2.0 and sum(row2.values()) == 2.0  # k-mers with N are skipped


def test_counts_are_strand_symmetric():
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), 50)) for _ in range(5)]
    rc = [s[::-1].translate(str.maketrans("ACGT", "TGCA")) for s in seqs]
    np.testing.assert_array_equal(kmer_counts(seqs), kmer_counts(rc))


def _planted(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    seqs = []
    for lab in y:
        s = list(rng.choice(list("AT"), 100))
        if lab:
            p = int(rng.integers(0, 90))
            s[p : p + 7] = "ACGTGGC"
        seqs.append("".join(s))
    return np.array(seqs), y


def test_fit_separates_a_planted_word_and_reports_it():
    s, y = _planted(300, 1)
    res = fit_kmer_baseline(s[:200], y[:200], s[200:250], y[200:250], s[250:], y[250:], cfg=BaselineConfig(ks=(4,)))
    assert res["auroc"] > 0.95 and res["n_train"] == 200 and res["n_test"] == 50 and res["k"] == [4]
    assert res["C"] in BaselineConfig().cs
    assert any("CG" in k for k, _ in res["top_kmers"][:3])


def test_one_class_training_is_refused():
    s, _ = _planted(20, 2)
    with pytest.raises(DeepDifEInputError, match="both classes"):
        fit_kmer_baseline(s, np.ones(20), s, np.ones(20), s, np.ones(20))


def test_train_dataset_fits_the_baseline_on_its_own_split(tiny_df):
    from deepdife_core.config import AugmentConfig, TrainConfig
    from deepdife_core.train.fit import train_dataset

    res = train_dataset(
        tiny_df, train_cfg=TrainConfig(epochs=1, batch_size=64, seed=2), augment_cfg=AugmentConfig(enabled=False)
    )
    base = res.metrics["baseline_kmer"]
    assert base["n_train"] == len(res.split["train"]) and base["n_test"] == len(res.split["test"])
    assert base["evaluated_on"] == res.metrics["evaluated_on"] == "test"
    # the same split and seed give the same baseline, computed independently here
    seqs, y = tiny_df["sequence"].to_numpy(), tiny_df["label"].to_numpy()
    p = res.split
    again = fit_kmer_baseline(
        seqs[p["train"]], y[p["train"]], seqs[p["val"]], y[p["val"]], seqs[p["test"]], y[p["test"]], seed=2
    )
    assert again["auroc"] == pytest.approx(base["auroc"])
    assert res.metrics["learning"]["status"] in ("learnt", "below_baseline", "not_learning")
