"""Motif discovery (modisco-lite), motif databases (MEME, JASPAR), TOMTOM matching, report, CLI.

The demo end-to-end test uses gradient x input on the first 400 genes of the
demo data set (make_demo_dataset() defaults, the data the demo model was
trained on): ~5 s of attributions (cached in a temp AttributionCache), ~10 s of
TF-MoDISco; in our runs modisco finds the planted ABRE (GCCACGTGGC) as the
largest positive pattern every time.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.motifs.modisco import (
    LogoCache,
    Motif,
    MotifConfig,
    _bh,
    discover_motifs,
    format_meme,
    jaspar_plants,
    jaspar_releases,
    load_motif_database,
    match_motifs,
    pattern_enrichment,
    read_meme,
    read_modisco_h5,
    run_motif_pipeline,
    seqlet_table,
    trim_span,
    write_meme,
)
from tests.core.motifs.helpers import _pattern

ABRE_TF = re.compile(r"ABF|AREB|ABI5|GBF|bZIP", re.IGNORECASE)


# ----------------------------------------------------------------------------- MEME files


def test_meme_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    motifs = []
    for i in range(5):
        p = rng.dirichlet(np.ones(4), size=6 + i)
        motifs.append(Motif(f"M{i}", f"TF {i}" if i % 2 else "", p, nsites=10 + i))
    path = write_meme(motifs, tmp_path / "x.meme")
    db = read_meme(path)
    assert [m.id for m in db.motifs] == [m.id for m in motifs]
    assert [m.name for m in db.motifs] == [m.name for m in motifs]
    for a, b in zip(db.motifs, motifs, strict=True):
        np.testing.assert_allclose(a.ppm, b.ppm, atol=2e-6)
        assert a.nsites == b.nsites
    # memelite's reader agrees with ours
    from memelite.io import read_meme as ml_read

    ml = ml_read(str(path))
    assert len(ml) == 5
    np.testing.assert_allclose(ml["M0"].T, motifs[0].ppm, atol=2e-6)
    # and bytes (an upload) parse the same
    assert len(read_meme(path.read_bytes(), name="upload.meme")) == 5


def test_read_deepdife_meme(shared_data):
    db = read_meme(shared_data / "jaspar_cisbp_other_source_no_high_similarity_tfbs_annot.meme")
    assert len(db) == 2016
    m = db.motifs[0]
    assert m.id == "M00008_AT_hook" and m.ppm.shape == (7, 4)
    np.testing.assert_allclose(m.ppm.sum(axis=1), 1.0)
    assert load_motif_database(shared_data / "jaspar_cisbp_other_source_no_high_similarity_tfbs_annot.meme")


GOOD = """MEME version 4

ALPHABET= ACGT

strands: + -

Background letter frequencies
A 0.25 C 0.25 G 0.25 T 0.25

MOTIF MA1 ABF1
letter-probability matrix: alength= 4 w= 3 nsites= 20 E= 0
0.1 0.7 0.1 0.1
0.7 0.1 0.1 0.1
0.1 0.1 0.7 0.1
URL http://example.org

MOTIF MA2
letter-probability matrix: alength= 4 w= 2 nsites= 20 E= 0
0.25 0.25 0.25 0.25
1 0 0 0
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.rsplit("\n", 2)[0] + "\n", r"bad\.meme, line \d+: MOTIF MA2 is truncated: 1 of w= 2"),
        (GOOD.replace("MOTIF MA2\nletter", "MOTIF MA2\nletter").replace("0.7 0.1 0.1 0.1\n", ""), r"truncated"),
        (GOOD.replace("ALPHABET= ACGT", "ALPHABET= ACDEFGHIKLMNPQRSTVWY"), r"bad\.meme, line 3: alphabet .* not DNA"),
        (GOOD.replace("alength= 4 w= 3", "alength= 20 w= 3"), r"line 11: alength= 20"),
        (GOOD.replace("0.1 0.7 0.1 0.1", "0.1 0.7 0.1"), r"line 12: MOTIF MA1: 3 values"),
        (GOOD.replace("0.1 0.7 0.1 0.1", "0.5 0.7 0.1 0.1"), r"line 12: MOTIF MA1: row sums to 1.400"),
        (GOOD.replace("MEME version 4", "hello"), r"line 1: expected 'MEME version"),
        ("", r"bad\.meme: the file is empty"),
        (GOOD.replace("MOTIF MA2", "MOTIF MA1"), r"line 17: motif ID 'MA1' occurs twice"),
        ("MEME version 4\n\nMOTIF X\n", r"line 3: MOTIF X has no 'letter-probability matrix'"),
        ("MEME version 4\n\nALPHABET= ACGT\n", r"no MOTIF entries"),
    ],
)
def test_bad_meme_files(tmp_path, text, message):
    path = tmp_path / "bad.meme"
    path.write_text(text)
    with pytest.raises(DeepDifEInputError, match=message):
        read_meme(path)


def test_good_meme_parses(tmp_path):
    path = tmp_path / "good.meme"
    path.write_text(GOOD)
    db = read_meme(path)
    assert [m.label for m in db.motifs] == ["MA1 ABF1", "MA2"]
    assert "MOTIF MA1 ABF1" in format_meme(db.motifs)
    with pytest.raises(DeepDifEInputError, match="not a text file"):
        read_meme(b"\xff\xfe\x00\x81", name="x.meme")
    with pytest.raises(DeepDifEInputError, match="no such MEME file"):
        read_meme(tmp_path / "missing.meme")


# ----------------------------------------------------------------------------- JASPAR


def test_jaspar_plants_cached_and_releases(tmp_path, jaspar, db_cache):
    rels = jaspar_releases()
    assert rels[0] == "JASPAR2026" and "JASPAR2024" in rels
    assert jaspar.name == "JASPAR2026 CORE plants" and len(jaspar) > 500
    abf1 = next(m for m in jaspar.motifs if m.name == "ABF1")
    assert "bZIP" in abf1.tf_class and abf1.family == "Group A"
    assert (db_cache / "jaspar2026_core_plants.meme").is_file()
    again = jaspar_plants(cache_dir=db_cache)  # from the cache
    assert [m.id for m in again.motifs] == [m.id for m in jaspar.motifs]
    assert again.by_id(abf1.id).family == "Group A"
    np.testing.assert_allclose(again.by_id(abf1.id).ppm, abf1.ppm, atol=2e-6)
    older = jaspar_plants(2024, cache_dir=tmp_path)
    assert older.name.startswith("JASPAR2024")
    with pytest.raises(DeepDifEInputError, match="not shipped"):
        jaspar_plants(1999, cache_dir=tmp_path)
    with pytest.raises(DeepDifEInputError, match="jaspar-plants"):
        load_motif_database(tmp_path / "nope.meme")


def test_match_synthetic_abre(jaspar):
    m = match_motifs([_pattern()], jaspar, top_k=5)
    assert len(m) == 5 and list(m["rank"]) == [1, 2, 3, 4, 5]
    # a G-box (CACGTG) is bound by bZIPs (ABF/GBF) and bHLHs alike: a bZIP is among the top 5
    assert any(ABRE_TF.search(f"{r.match_name} {r.tf_class}") for r in m.itertuples()), m
    assert m.iloc[0]["qvalue"] < 0.05 and (m["pvalue"].diff().dropna() >= 0).all()


def test_bh_matches_scipy():
    from scipy.stats import false_discovery_control

    p = np.random.default_rng(0).uniform(size=(3, 50)) ** 3
    np.testing.assert_allclose(_bh(p), np.stack([false_discovery_control(r) for r in p]))


# ----------------------------------------------------------------------------- pieces


def test_trim_and_query_ppm():
    p = _pattern()
    assert trim_span(p.cwm) == (5, 15)
    q = p.query_ppm()
    assert q.shape == (10, 4)
    np.testing.assert_allclose(q.sum(1), 1)
    assert p.consensus() == "CCACGTGGCA"
    qc = p.query_ppm(source="cwm")
    assert "".join("ACGT"[i] for i in qc.argmax(1)) == "CCACGTGGCA"
    with pytest.raises(DeepDifEInputError, match="ppm_source"):
        p.query_ppm(source="x")


def test_config_and_input_checks():
    with pytest.raises(DeepDifEInputError, match="n_leiden_runs"):
        MotifConfig(n_leiden_runs=0)
    with pytest.raises(DeepDifEInputError, match="window"):
        MotifConfig(window=-3)
    x = np.zeros((3, 4, 100), dtype=np.float32)
    with pytest.raises(DeepDifEInputError, match="channels-first"):
        discover_motifs(x, x)
    with pytest.raises(DeepDifEInputError, match="differ in shape"):
        discover_motifs(np.zeros((3, 100, 4)), np.zeros((3, 90, 4)))
    with pytest.raises(DeepDifEInputError, match="shorter than the seqlet window"):
        discover_motifs(np.zeros((3, 20, 4)), np.zeros((3, 20, 4)))


def test_seqlet_table_and_enrichment():
    p = _pattern(n=6)
    genes = [f"G{i}" for i in range(10)]
    labels = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    t = seqlet_table([p], genes, length=600, labels=labels)
    assert list(t["gene_id"]) == genes[:6]
    assert list(t["strand"]) == ["+", "-"] * 3
    assert (t["pos_from_tss"] == 100 - 600).all()
    fwd, rev = t.iloc[0], t.iloc[1]
    assert (fwd["core_start"], fwd["core_end"]) == (105, 115)
    assert (rev["core_start"], rev["core_end"]) == (120 - 15, 120 - 5)
    e = pattern_enrichment(t, labels, [p.name]).iloc[0]
    assert (e["n_genes_responsive"], e["n_genes_nonresponsive"]) == (5, 1)
    assert 0 < e["fisher_p"] < 0.2


def test_logo_cache_draws_once(tmp_path):
    p = _pattern()
    cache = LogoCache(tmp_path / "logos")
    path = cache.get(p, "fwd")
    assert path.read_bytes()[:4] == b"\x89PNG" and cache.drawn == 1
    assert cache.get(p, "fwd") == path and cache.drawn == 1
    again = LogoCache(tmp_path / "logos")  # a later session reads the file
    assert again.get(p, "fwd") == path and again.drawn == 0
    assert cache.get(p, "rev", "svg").read_text().lstrip().startswith("<?xml")
    with pytest.raises(DeepDifEInputError):
        cache.get(p, "up")


# ----------------------------------------------------------------------------- demo end to end


@pytest.fixture(scope="module")
def demo_run(demo_inputs, jaspar, tmp_path_factory):
    df, X, attr, _ = demo_inputs
    events = []
    out = tmp_path_factory.mktemp("runs") / "demo"
    run = run_motif_pipeline(
        attr.hypothetical,
        X,
        df["gene_id"].tolist(),
        out,
        labels=df["label"].to_numpy(),
        database=jaspar,
        meta={"model": "models/demo"},
        progress=events.append,
    )
    return run, events


def test_demo_top_pattern_is_abre(demo_run):
    run, events = demo_run
    pos = run.patterns[run.patterns["sign"] == "pos"].sort_values("n_seqlets", ascending=False)
    assert len(pos), "no positive pattern"
    top = pos.iloc[0]
    assert "ACGTG" in top["consensus"].upper() or "CACGT" in top["consensus"].upper()
    assert ABRE_TF.search(f"{top['best_match_name']} {top['best_match_class']}"), top.to_dict()
    assert top["best_match_qvalue"] < 0.05
    # the planted element is enriched in responsive genes
    assert top["n_genes_responsive"] > top["n_genes_nonresponsive"] and top["fisher_p"] < 1e-6
    report = (run.folder / "report.html").read_text()
    assert top["best_match_name"] in report and top["pattern"] in report
    kinds = [e["event"] for e in events]
    assert kinds[0] == "modisco_start" and kinds[-1] == "done"


def test_demo_run_folder_contract(demo_run, demo_inputs):
    run, _ = demo_run
    df, X, _, _ = demo_inputs
    folder = run.folder
    for name in ("modisco.h5", "patterns.csv", "patterns.meme", "seqlets.csv", "report.html", "run.json"):
        assert (folder / name).is_file(), name
    assert not list(folder.parent.glob(".tmp-*"))
    pats = pd.read_csv(folder / "patterns.csv")
    for col in ("pattern", "sign", "n_seqlets", "best_match_id", "best_match_name", "best_match_qvalue"):
        assert col in pats.columns
    seq = pd.read_csv(folder / "seqlets.csv")
    assert {"gene_id", "start", "end", "strand", "pos_from_tss"} <= set(seq.columns)
    assert (seq["pos_from_tss"] == seq["start"] - X.shape[1]).all()
    assert set(seq["gene_id"]) <= set(df["gene_id"])
    assert seq.groupby("pattern").size().to_dict() == dict(zip(pats["pattern"], pats["n_seqlets"], strict=True))
    # the seqlet really lies on the planted ABRE of its gene for most seqlets of the top pattern
    top = pats.sort_values("n_seqlets").iloc[-1]["pattern"]
    s = seq[seq["pattern"] == top]
    sites = df.set_index("gene_id")["sites"]
    hits = 0
    for _, r in s.iterrows():
        spans = [tuple(map(int, x.split(":")[:2])) for x in str(sites[r["gene_id"]]).split(";") if x]
        hits += any(a < r["core_end"] and r["core_start"] < b for a, b in spans)
    assert hits / len(s) > 0.5
    meme = read_meme(folder / "patterns.meme")
    assert [m.id for m in meme.motifs] == list(pats["pattern"])
    logos = list((folder / "logos").glob("*.png"))
    assert len(logos) == 2 * len(pats)
    # reading the HDF5 back gives the same patterns
    back = read_modisco_h5(folder / "modisco.h5")
    assert [p.name for p in back.patterns] == list(pats["pattern"])
    np.testing.assert_allclose(back.patterns[0].cwm, run.result.patterns[0].cwm)


def test_modiscolite_report_reads_our_h5(demo_run, tmp_path):
    import modiscolite

    run, _ = demo_run
    out = tmp_path / "modisco_report"
    modiscolite.report.report_motifs(
        str(run.folder / "modisco.h5"), str(out), "./", meme_motif_db=None, is_writing_tomtom_matrix=False
    )
    html = (out / "motifs.html").read_text()
    assert "pos_patterns.pattern_0" in html
    assert (out / "trimmed_logos" / "pos_patterns.pattern_0.cwm.fwd.png").is_file()


def test_seed_permutes_but_keeps_caller_indices(demo_inputs):
    _df, X, attr, _ = demo_inputs
    res = discover_motifs(attr.hypothetical[:300], X[:300], MotifConfig(seed=3))
    assert res.patterns
    for p in res.patterns:
        idx = p.seqlets["example_idx"].to_numpy()
        assert idx.max() < 300
        # the seqlet's sequence in the caller's array equals the pattern-aligned one-hot
        r = p.seqlets.iloc[0]
        window = X[r["example_idx"], r["start"] : r["end"]]
        if r["is_revcomp"]:
            window = window[::-1, ::-1]
        assert window.shape == p.ppm.shape


# ----------------------------------------------------------------------------- CLI


# ----------------------------------------------------------------------------- published model


@pytest.mark.slow
def test_published_model_end_to_end(shared_data, tmp_path, db_cache):
    """~200 Arabidopsis promoters, published DeepDifE model, DeepSHAP (20 shuffles), DeepDifE's MEME db."""
    import modiscolite

    from deepdife_core.data import io
    from deepdife_core.data.encode import one_hot
    from deepdife_core.interpret.explain import ExplainConfig, explain
    from deepdife_core.model.cnn import import_legacy

    predictor = import_legacy(shared_data / "model_single.json", shared_data / "weights_single.h5")
    length = predictor.config.input_length
    assert length == 600
    df = io.sequences_from_fasta(shared_data / "arabidopsis" / "example.fasta_c1", length=length).iloc[:200]
    X = one_hot(df["sequence"].tolist())
    attr = explain(predictor, X, ExplainConfig(method="deepshap", n_background=20))
    db = read_meme(shared_data / "jaspar_cisbp_other_source_no_high_similarity_tfbs_annot.meme")
    cfg = MotifConfig(min_metacluster_size=20, final_min_cluster_size=10)
    run = run_motif_pipeline(attr.hypothetical, X, df["gene_id"].tolist(), tmp_path / "run", config=cfg, database=db)
    assert (tmp_path / "run" / "report.html").is_file()
    pats = pd.read_csv(tmp_path / "run" / "patterns.csv")
    assert len(pats) == len(run.result.patterns)
    if len(pats):
        assert pats["best_match_id"].notna().all()
    out = tmp_path / "modisco_report"
    modiscolite.report.report_motifs(
        str(tmp_path / "run" / "modisco.h5"), str(out), "./", meme_motif_db=None, is_writing_tomtom_matrix=False
    )
    assert (out / "motifs.html").is_file()
