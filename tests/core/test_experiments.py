"""In-silico experiments: exact values on an oracle ABRE model, sources, summaries, job runner and CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deepdife_core.config import ModelConfig
from deepdife_core.data.encode import one_hot, reverse_complement
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.experiments import ExperimentConfig
from deepdife_core.experiments import summary as S  # noqa: N812
from deepdife_core.experiments.ablate import ablate_motif
from deepdife_core.experiments.backgrounds import Background, select_backgrounds
from deepdife_core.experiments.dose import dose_response
from deepdife_core.experiments.insert import insertion
from deepdife_core.experiments.sources import from_iupac, motif_source
from deepdife_core.experiments.spacing import spacing_grid
from deepdife_core.experiments.sweep import position_sweep
from deepdife_core.experiments.tile import genomic_windows, tile_gene
from deepdife_core.model.cnn import Predictor, build_model

ABRE_PWM = ["A", "C", "G", "T", "G", "GT", "C"]  # ACGTGKC
L = 80


def oracle_predictor() -> Predictor:
    """One conv filter = ABRE PWM (7 on a match, bias -5.5), global max -> logit 2*relu - 1 (forward strand only)."""
    k = len(ABRE_PWM)
    cfg = ModelConfig(
        head="flatten",
        input_length=L,
        pad_left=0,
        pad_right=0,
        n_conv=1,
        filters=2,
        kernel_size=k,
        pool_size=L - k + 1,
        dense_units=(),
        dropout=0.0,
        l2=0.0,
        conjoin=False,
        strand_shared=False,
    )
    model = build_model(cfg)
    kernel = np.zeros((k, 4, 2), dtype=np.float32)
    for j, bases in enumerate(ABRE_PWM):
        for b in bases:
            kernel[j, "ACGT".index(b), 0] = 1.0
    model.get_layer("conv_0").set_weights([kernel, np.array([-5.5, 0.0], dtype=np.float32)])
    model.get_layer("output").set_weights([np.array([[2.0], [0.0]], np.float32), np.array([-1.0], np.float32)])
    return Predictor([model], cfg)


def oracle_logit(seq: str) -> float:
    """The oracle's logit computed from the string alone (independent of Keras)."""
    best = 0
    for p in range(len(seq) - 6):
        best = max(best, sum(seq[p + j] in bases for j, bases in enumerate(ABRE_PWM)))
    return 2.0 * max(best - 5.5, 0.0) - 1.0


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


def at_seqs(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list("AT"), size=L)) for _ in range(n)]


def put(seq: str, motif: str, pos: int) -> str:
    return seq[:pos] + motif + seq[pos + len(motif) :]


@pytest.fixture(scope="module")
def oracle():
    return oracle_predictor()


@pytest.fixture(scope="module")
def bg():
    seqs = at_seqs(6)
    return Background(tuple(f"G{i}" for i in range(6)), one_hot(seqs), "all", np.zeros(6, dtype=np.int64)), seqs


ABRE = from_iupac("ACGTGGC")


def test_oracle_matches_its_string_oracle(oracle, bg):
    _, seqs = bg
    test = [seqs[0], put(seqs[1], "ACGTGGC", 10), put(seqs[2], "ACGTGTC", 40), put(seqs[3], "GCCACGT", 5)]
    from deepdife_core.experiments.scoring import score

    prob, logit = score(oracle, one_hot(test))
    expected = [oracle_logit(s) for s in test]
    np.testing.assert_allclose(logit, expected, atol=1e-5)
    np.testing.assert_allclose(prob, sigmoid(expected), atol=1e-6)
    assert expected == [-1.0, 2.0, 2.0, -1.0]


def test_insertion_exact_values_both_orientations(oracle, bg):
    b, _ = bg
    t = insertion(oracle, b, ABRE, ExperimentConfig(position=30, orientation="both"))
    assert list(t["gene_id"]) == list(b.gene_ids) and (t["position"] == 30).all()
    np.testing.assert_allclose(t["logit_before"], -1.0, atol=1e-5)
    np.testing.assert_allclose(t["delta_logit_plus"], 3.0, atol=1e-5)  # forward ABRE: -1 -> 2
    np.testing.assert_allclose(t["delta_logit_minus"], 0.0, atol=1e-5)  # the model reads the forward strand only
    np.testing.assert_allclose(t["delta_logit"], 1.5, atol=1e-5)
    np.testing.assert_allclose(t["delta_probability"], (sigmoid(2) + sigmoid(-1)) / 2 - sigmoid(-1), atol=1e-6)
    t_plus = insertion(oracle, b, ABRE, ExperimentConfig(position=30, orientation="+"))
    np.testing.assert_allclose(t_plus["p_after"], sigmoid(2.0), atol=1e-6)


def test_default_position_is_the_middle(oracle, bg):
    b, _ = bg
    t = insertion(oracle, b, ABRE, ExperimentConfig(orientation="+"))
    assert (t["position"] == (L - 7) // 2).all()
    with pytest.raises(DeepDifEInputError, match="must start at 0"):
        insertion(oracle, b, ABRE, ExperimentConfig(position=L - 3))


def test_sweep_every_position_gives_three_logits(oracle, bg):
    b, _ = bg
    summary, per_gene = position_sweep(oracle, b, ABRE, ExperimentConfig(step=7, orientation="+"))
    assert list(summary["position"]) == list(range(0, L - 7 + 1, 7))
    assert list(summary["pos_from_tss"]) == [p - L for p in range(0, L - 7 + 1, 7)]
    np.testing.assert_allclose(summary["delta_logit_mean"], 3.0, atol=1e-5)
    np.testing.assert_allclose(summary["delta_logit_sd"], 0.0, atol=1e-5)
    assert (summary["n"] == 6).all() and len(per_gene) == 6 * len(summary)


def test_spacing_matches_the_string_oracle_including_junction_sites(oracle, bg):
    b, seqs = bg
    cfg = ExperimentConfig(max_spacing=6, position=20)
    summary, per_gene = spacing_grid(oracle, b, ABRE, ABRE, cfg)
    assert len(summary) == 7 * 4 and set(summary["orientation"]) == {"++", "+-", "-+", "--"}
    site = {"+": "ACGTGGC", "-": reverse_complement("ACGTGGC")}
    for r in per_gene.itertuples():
        s = seqs[int(r.gene_id[1:])]
        both = put(put(s, site[r.orientation[0]], 20), site[r.orientation[1]], 27 + r.spacing)
        a = put(s, site[r.orientation[0]], 20)
        bb = put(s, site[r.orientation[1]], 27 + r.spacing)
        z0 = oracle_logit(s)
        dz = oracle_logit(both) - z0
        assert r.delta_logit == pytest.approx(dz, abs=1e-5)
        assert r.interaction_logit == pytest.approx(dz - (oracle_logit(a) - z0) - (oracle_logit(bb) - z0), abs=1e-5)
    pp = summary[summary["orientation"] == "++"]
    np.testing.assert_allclose(pp["interaction_logit_mean"], -3.0, atol=1e-5)  # a second site adds nothing here
    # GCCACGT + GCCACGT at gap 0 reads ACGTGCC (6 of 7): relu(0.5) -> logit 0, a junction site
    assert summary.query("orientation == '--' and spacing == 0")["delta_logit_mean"].item() == pytest.approx(1.0)


def test_dose_is_saturating_on_a_global_max_model(oracle, bg):
    b, _ = bg
    summary, _ = dose_response(oracle, b, ABRE, ExperimentConfig(max_copies=3, copy_gap=3, orientation="+"))
    assert list(summary["copies"]) == [0, 1, 2, 3]
    np.testing.assert_allclose(summary["delta_logit_mean"], [0, 3, 3, 3], atol=1e-5)
    np.testing.assert_allclose(summary["additive_logit_mean"], [0, 3, 6, 9], atol=1e-5)
    np.testing.assert_allclose(summary["synergy_logit_mean"], [0, 0, -3, -6], atol=1e-5)
    block = 3 * 7 + 2 * 3
    assert summary["positions"].iloc[3] == ";".join(str((L - block) // 2 + k * 10) for k in range(3))


@pytest.mark.parametrize("mode", ["n", "delete", "shuffle"])
def test_tiling_finds_the_site(oracle, bg, mode):
    _, seqs = bg
    gene = put(seqs[0], "ACGTGGC", 40)
    t = tile_gene(oracle, "G", one_hot(gene), ExperimentConfig(window=10, step=5, mode=mode, n_shuffles=3))
    assert list(t["start"]) == list(range(0, L - 10 + 1, 5))
    over = (t["start"] < 47) & (t["end"] > 40)
    np.testing.assert_allclose(t.loc[~over, "delta_logit"], 0.0, atol=1e-5)
    if mode != "shuffle":  # the variants built independently as strings (a shuffle is random)
        z0 = oracle_logit(gene)
        for r in t.itertuples():
            s, e = r.start, r.end
            v = gene[:s] + "N" * 10 + gene[e:] if mode == "n" else "N" * 10 + gene[:s] + gene[e:]
            assert r.delta_logit == pytest.approx(oracle_logit(v) - z0, abs=1e-5)
        if mode == "n":
            np.testing.assert_allclose(t.loc[over, "delta_logit"], -3.0, atol=1e-5)
    assert set(t.loc[t["rank"] <= int(over.sum()), "start"]) == set(t.loc[over, "start"]) or mode == "shuffle"
    assert t["delta_logit"].min() < -1


def test_genomic_windows_on_both_strands():
    starts, ends = np.array([0, 10, 95]), np.array([10, 20, 100])
    plus = genomic_windows("Chr1:1000-1100(+)", starts, ends, 100)
    assert list(plus["genomic_start"]) == [1000, 1010, 1095] and list(plus["genomic_end"]) == [1010, 1020, 1100]
    minus = genomic_windows("Chr1:1000-1100(-)", starts, ends, 100)
    assert list(minus["genomic_start"]) == [1090, 1080, 1000] and list(minus["genomic_end"]) == [1100, 1090, 1005]
    short = genomic_windows("Chr2:500-580(+)", starts, ends, 100)  # 80 bp padded with 20 N at the 5' end
    assert short["genomic_start"].isna().tolist() == [True, True, False]
    assert int(short["genomic_start"].iloc[2]) == 575 and int(short["genomic_end"].iloc[2]) == 580
    assert genomic_windows(None, starts, ends, 100)["chrom"].isna().all()


def test_ablation_finds_and_destroys_iupac_sites(oracle, bg):
    _, seqs = bg
    genes = [put(seqs[0], "ACGTGGC", 10), put(seqs[1], "GCCACGT", 30), seqs[2], put(seqs[3], "ACGTGTC", 50)]
    motif = from_iupac("ACGTGKC")
    t = ablate_motif(oracle, ["a", "b", "c", "d"], one_hot(genes), motif, ExperimentConfig(mode="n"))
    t = t.set_index("gene_id")
    assert t.loc["a", "sites"] == "10:17:+" and t.loc["b", "sites"] == "30:37:-" and t.loc["d", "sites"] == "50:57:+"
    assert t.loc["c", "n_sites"] == 0 and t.loc["c", "delta_logit"] == 0
    assert t.loc["a", "delta_logit"] == pytest.approx(-3.0, abs=1e-5) and bool(t.loc["a", "lost"])
    assert t.loc["b", "delta_logit"] == pytest.approx(0.0, abs=1e-5) and not bool(t.loc["b", "lost"])
    assert int(t["lost"].sum()) == 2


def test_fixed_seed_gives_identical_tables(oracle, bg):
    b, _ = bg
    m = from_iupac("ACGTGKC")
    cfg = ExperimentConfig(instance="sample", seed=3)
    a1 = insertion(oracle, b, m, cfg)
    a2 = insertion(oracle, b, m, cfg)
    pd.testing.assert_frame_equal(a1, a2)
    inst = m.instances(200, mode="sample", seed=3)
    assert set(np.unique(inst[:, 5].argmax(1))) == {2, 3}  # K = G or T, both drawn
    np.testing.assert_array_equal(inst, m.instances(200, mode="sample", seed=3))


def test_mean_ci_exact():
    s = S.mean_ci(np.array([1.0, 2.0, 3.0, 4.0]))
    sd = np.sqrt(5 / 3)
    half = 3.182446305284263 * sd / 2  # t(0.975, 3)
    assert s["mean"] == 2.5 and s["sd"] == pytest.approx(sd) and s["n"] == 4
    assert s["ci_low"] == pytest.approx(2.5 - half) and s["ci_high"] == pytest.approx(2.5 + half)
    assert np.isnan(S.mean_ci(np.array([1.0]))["sd"])


def test_sources_and_bad_specs():
    m = motif_source("ACGTGKC")
    assert m.kind == "iupac" and m.consensus == "ACGTGGC" and m.width == 7
    np.testing.assert_allclose(m.ppm[5], [0, 0, 0.5, 0.5])
    with pytest.raises(DeepDifEInputError, match="RUN:pos_0"):
        motif_source("AC GT")
    with pytest.raises(DeepDifEInputError, match="no motif run"):
        motif_source("nope:pos_0", motifs_root="/nonexistent")


def test_jaspar_matrix_by_id_offline(tmp_path):
    m = motif_source("MA0930", cache_dir=tmp_path)
    assert m.kind == "jaspar" and m.name.startswith("MA0930.") and m.ppm.shape[1] == 4
    np.testing.assert_allclose(m.ppm.sum(axis=1), 1.0)


def test_backgrounds_by_class_and_shuffled(tiny_df):
    b = select_backgrounds(tiny_df, "non-responsive", 20, seed=1)
    assert len(b) == 20 and (b.labels == 0).all()
    assert b.gene_ids == select_backgrounds(tiny_df, "non-responsive", 20, seed=1).gene_ids
    s = select_backgrounds(tiny_df, "shuffled", 20, seed=1)
    assert all(g.startswith("shuffle:") for g in s.gene_ids)
    np.testing.assert_array_equal(s.x.sum(axis=1), b.x.sum(axis=1))  # same base composition
    assert not np.array_equal(s.x, b.x)
    with pytest.raises(DeepDifEInputError, match="no responsive genes"):
        select_backgrounds(tiny_df[tiny_df["label"] == 0], "responsive", 5)


def test_config_validation():
    with pytest.raises(DeepDifEInputError, match="background must be one of"):
        ExperimentConfig(background="some")
    with pytest.raises(DeepDifEInputError, match="n_backgrounds must be >= 1"):
        ExperimentConfig(n_backgrounds=0)
    with pytest.raises(DeepDifEInputError, match="unknown experiment option"):
        ExperimentConfig.from_dict({"bogus": 1})


def test_stop_between_chunks(oracle, bg):
    from deepdife_core.experiments.scoring import ExperimentStoppedError

    b, _ = bg
    calls = []
    with pytest.raises(ExperimentStoppedError):
        position_sweep(
            oracle,
            b,
            ABRE,
            ExperimentConfig(step=1, chunk=20),
            progress=calls.append,
            should_stop=lambda: len(calls) >= 2,
        )
    assert [c["done"] for c in calls] == [20, 40]


# ----------------------------------------------------------------------------- job and CLI (demo model)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_csv(tmp_path_factory):
    from deepdife_core.cli.main import main

    out = tmp_path_factory.mktemp("demo") / "demo.csv"
    assert main(["demo", "--out", str(out), "-q"]) == 0
    return out


def test_cli_insert_contract(demo_csv, tmp_path):
    from deepdife_core.cli.main import main

    out, fig = tmp_path / "ins.csv", tmp_path / "ins.svg"
    rc = main(
        [
            "experiment",
            "insert",
            "--model",
            str(ROOT / "models/demo"),
            "--data",
            str(demo_csv),
            "--motif",
            "CCACGTGGCA",
            "--background",
            "non-responsive",
            "--n",
            "30",
            "--position",
            "450",
            "--orientation",
            "+",
            "--out",
            str(out),
            "--figure",
            str(fig),
            "-q",
        ]
    )
    assert rc == 0
    t = pd.read_csv(out)
    assert {"gene_id", "p_before", "p_after", "delta_probability", "delta_logit"} <= set(t.columns)
    assert len(t) == 30 and (t["position"] == 450).all() and fig.read_text().startswith("<?xml")
    np.testing.assert_allclose(t["delta_probability"], t["p_after"] - t["p_before"], atol=1e-9)


def test_cli_sweep_spacing_dose_tile_ablate(demo_csv, tmp_path):
    from deepdife_core.cli.main import main

    common = ["--model", str(ROOT / "models/demo"), "--data", str(demo_csv), "-q"]
    assert (
        main(
            [
                "experiment",
                "sweep",
                *common,
                "--motif",
                "CCACGTGGCA",
                "--n",
                "20",
                "--step",
                "100",
                "--out",
                str(tmp_path / "s.csv"),
            ]
        )
        == 0
    )
    s = pd.read_csv(tmp_path / "s.csv")
    assert list(s["position"]) == [0, 100, 200, 300, 400, 500] and "delta_probability_ci_low" in s.columns
    assert (
        main(
            [
                "experiment",
                "spacing",
                *common,
                "--motif",
                "CCACGTGGCA",
                "--motif2",
                "TTGACC",
                "--n",
                "20",
                "--max-spacing",
                "10",
                "--out",
                str(tmp_path / "sp.csv"),
            ]
        )
        == 0
    )
    assert len(pd.read_csv(tmp_path / "sp.csv")) == 11 * 4
    assert (
        main(["experiment", "dose", *common, "--motif", "CCACGTGGCA", "--n", "20", "--out", str(tmp_path / "d.csv")])
        == 0
    )
    assert list(pd.read_csv(tmp_path / "d.csv")["copies"]) == [0, 1, 2, 3]
    assert (
        main(
            [
                "experiment",
                "tile",
                *common,
                "--gene",
                "SYN1G00040",
                "--window",
                "50",
                "--step",
                "25",
                "--mode",
                "n",
                "--out",
                str(tmp_path / "t.csv"),
            ]
        )
        == 0
    )
    t = pd.read_csv(tmp_path / "t.csv")
    assert {"start", "end", "chrom", "genomic_start", "genomic_end", "p_after", "delta_probability"} <= set(t.columns)
    assert (
        main(["experiment", "ablate", *common, "--motif", "ACGTGKC", "--mode", "n", "--out", str(tmp_path / "a.csv")])
        == 0
    )
    a = pd.read_csv(tmp_path / "a.csv")
    assert len(a) == 2000 and a["lost"].sum() > 100


def test_cli_bad_input_is_one_line(demo_csv, tmp_path, capsys):
    from deepdife_core.cli.main import main

    rc = main(
        [
            "experiment",
            "tile",
            "--model",
            str(ROOT / "models/demo"),
            "--data",
            str(demo_csv),
            "--gene",
            "NOPE1",
            "--out",
            str(tmp_path / "t.csv"),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "gene 'NOPE1' is not in the dataset" in err and "Traceback" not in err
    assert not (tmp_path / "t.csv").exists()


def test_job_runner_writes_the_results_folder(demo_csv, tmp_path):
    from deepdife_core.jobs import runner as jobs

    folder = jobs.create_job(
        tmp_path / "jobs",
        "experiment",
        {
            "kind": "dose",
            "out": str(tmp_path / "exp" / "dose1"),
            "model_path": str(ROOT / "models/demo"),
            "dataset_path": str(demo_csv),
            "motifs": ["CCACGTGGCA"],
            "config": {"n_backgrounds": 20},
        },
    )
    assert jobs.run_job(folder) == 0
    assert jobs.read_job(folder)["state"] == "done"
    out = tmp_path / "exp" / "dose1"
    assert {"table.csv", "per_gene.csv", "figure.svg", "figure.png", "run.json"} <= {p.name for p in out.iterdir()}
    assert json.loads((out / "run.json").read_text())["kind"] == "dose"
    assert any(e.get("event") == "scored" for e in jobs.read_events(folder))


def test_motif_run_pattern_source_reads_the_cwm_consensus(tmp_path):
    import h5py

    cwm = np.zeros((10, 4), dtype=np.float32)
    for j, b in enumerate("xxACGTGGCx"):
        if b in "ACGT":
            cwm[j, "ACGT".index(b)] = 1.0
    (tmp_path / "run1").mkdir()
    with h5py.File(tmp_path / "run1" / "modisco.h5", "w") as fh:  # modisco-lite's layout
        g = fh.create_group("pos_patterns/pattern_0")
        g["sequence"] = np.full((10, 4), 0.25, np.float32)
        g["contrib_scores"] = cwm
        g["hypothetical_contribs"] = cwm
        for key, val in (("example_idx", [0]), ("start", [0]), ("end", [10]), ("is_revcomp", [False])):
            g[f"seqlets/{key}"] = np.asarray(val)
    m = motif_source("run1:pos_0", motifs_root=tmp_path)
    assert m.kind == "pattern" and m.name == "run1:pos_0" and m.consensus == "ACGTGGC"
    with pytest.raises(DeepDifEInputError, match="has no pattern 'pos_3'"):
        motif_source("run1:pos_3", motifs_root=tmp_path)


def test_export_figures_draw_on_a_given_axes_or_their_own(oracle, bg):
    from matplotlib.figure import Figure

    from deepdife_core.experiments import plot as xplot

    b, _ = bg
    summary, _ = dose_response(oracle, b, ABRE, ExperimentConfig(max_copies=2, orientation="+"))
    fig = xplot.plot_dose(summary)
    assert isinstance(fig, Figure) and len(fig.axes[0].lines) >= 2
    own = Figure()
    ax = own.add_subplot()
    assert xplot.plot_dose(summary, ax) is own
    with pytest.raises(DeepDifEInputError, match="lacks"):
        xplot.plot_sweep(summary)


def test_job_stopped_mid_run_saves_nothing(demo_csv, tmp_path, monkeypatch):
    from deepdife_core.jobs import runner as jobs

    out = tmp_path / "exp" / "sweep1"
    folder = jobs.create_job(
        tmp_path / "jobs",
        "experiment",
        {
            "kind": "sweep",
            "out": str(out),
            "model_path": str(ROOT / "models/demo"),
            "dataset_path": str(demo_csv),
            "motifs": ["CCACGTGGCA"],
            "config": {"n_backgrounds": 20, "step": 1, "chunk": 500},
        },
    )
    real = jobs._JobWriter.event

    def event(self, ev):  # the user presses Stop after the first scored chunk
        real(self, ev)
        if ev.get("event") == "scored":
            jobs.request_stop(self.folder)

    monkeypatch.setattr(jobs._JobWriter, "event", event)
    assert jobs.run_job(folder) == 0
    assert jobs.read_job(folder)["state"] == "stopped"
    scored = [e for e in jobs.read_events(folder) if e.get("event") == "scored"]
    assert len(scored) == 1 and scored[0]["done"] == 500
    assert not out.exists() and not (tmp_path / "exp").exists()  # nothing written, not even a temp folder
