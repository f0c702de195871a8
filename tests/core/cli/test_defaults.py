"""Every ``deepdife`` option's default is the dataclass field or signature default it feeds.

The parser is built and each option's default compared with its source, so a changed
field (``DatasetConfig.length``, ``MotifConfig.flank_size``, ``make_demo_dataset``'s
``n_genes``, ...) cannot drift from the command line.  An option with a default that is
in neither :data:`SOURCES` nor :data:`CLI_OWN` fails :func:`test_every_default_has_a_source`.
"""

from __future__ import annotations

import argparse
from dataclasses import fields
from functools import partial

import pytest

from deepdife_core.cli import main as cli_main
from deepdife_core.cli import motifs as cli_motifs
from deepdife_core.cli.common import default_of
from deepdife_core.cli.main import build_parser
from deepdife_core.config import AugmentConfig, DatasetConfig, ModelConfig, PhyloConfig, TrainConfig
from deepdife_core.data import io
from deepdife_core.data.demo import make_demo_dataset
from deepdife_core.experiments.config import ExperimentConfig
from deepdife_core.genome.promoters import PromoterConfig
from deepdife_core.interpret.explain import ExplainConfig
from deepdife_core.motifs.modisco import DEFAULT_DB_CACHE, MatchConfig, MotifConfig, load_motif_database
from deepdife_core.plot.figures import plot_gene
from deepdife_core.streaming import StreamConfig
from deepdife_core.tune.study import run_study
from deepdife_core.variants import VariantConfig

#: actions whose default is no value of the user's (on/off switches, lists that start empty, help)
SWITCHES = (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse._HelpAction, argparse._AppendAction)

#: defaults that are choices of the command line itself (no library field stands behind them)
CLI_OWN = {
    (("train",), "--recipe"): "default",  # 'default' keeps the options as given
    (("train",), "--cv"): 0,  # 0: no cross-validation
    (("tune",), "action"): "run",
    (("experiment", "ablate"), "--genes"): "all",  # which genes' sites are ablated
}
#: every ``experiment`` sub-command's ``--motifs-root`` (where motif runs are read), also a CLI choice
MOTIFS_ROOT = "workspace/motifs"


def options(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """``(command path, option, action)`` of every option of every (sub-)command."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from options(sub, (*path, name))
        elif not isinstance(action, SWITCHES):
            yield path, (action.option_strings[0] if action.option_strings else action.dest), action


def _sources() -> dict:
    """``(command path, option) -> the value its default must be``, read from the library."""
    data, de, phylo = DatasetConfig(), io.DEThresholds(), PhyloConfig()
    tc, mc, aug = TrainConfig(), ModelConfig(), AugmentConfig()
    ex, motif, promoter, variant = ExplainConfig(), MotifConfig(), PromoterConfig(), VariantConfig()
    experiment = ExperimentConfig()
    src: dict = {}
    build = ("dataset", "build")
    src[build, "--length"] = data.length
    src[build, "--pad-side"] = data.pad_side
    src[build, "--max-n"] = data.max_n_fraction
    for flag, name in (("--gene-col", "gene_col"), ("--lfc-col", "lfc_col"), ("--padj-col", "padj_col")):
        src[build, flag] = default_of(io.dataset_from_de_table, name)
    for name in ("lfc_min", "padj_max", "lfc_neg_max", "padj_neg_min", "direction"):
        src[build, "--" + name.replace("_", "-")] = getattr(de, name)
    src[build, "--alt-tss"] = io.ALT_TSS_DATASET
    for cmd in (build, ("promoters",), ("variants",)):
        for name in ("upstream", "downstream", "tss", "region"):
            src[cmd, "--" + name] = getattr(promoter, name)
    del src[("variants",), "--region"]  # variants always score promoter windows
    train = ("train",)
    for flag in ("--length", "--pad-side", "--max-n"):
        src[train, flag] = None  # with --fasta only; the DatasetConfig fields then
    train_fields = {
        "--epochs": (tc, "epochs"),
        "--batch-size": (tc, "batch_size"),
        "--learning-rate": (tc, "learning_rate"),
        "--seed": (tc, "seed"),
        "--val-fraction": (tc, "val_fraction"),
        "--test-fraction": (tc, "test_fraction"),
        "--patience": (tc, "early_stopping_patience"),
        "--lr-patience": (tc, "reduce_lr_patience"),
        "--lr-factor": (tc, "reduce_lr_factor"),
        "--min-lr": (tc, "min_learning_rate"),
        "--min-delta": (tc, "min_delta"),
        "--strands": (tc, "strands"),
        "--monitor": (tc, "monitor"),
        "--chance-patience": (tc, "chance_patience"),
        "--rc-augment": (tc, "rc_augment"),
        "--n-conv": (mc, "n_conv"),
        "--filters": (mc, "filters"),
        "--kernel-size": (mc, "kernel_size"),
        "--dropout": (mc, "dropout"),
        "--first-activation": (mc, "first_activation"),
        "--head": (mc, "head"),
        "--region-bp": (mc, "region_bp"),
        "--batch-norm": (mc, "batch_norm"),
        "--strand-shared": (mc, "strand_shared"),
        "--evoaug": (aug, "enabled"),
        "--evoaug-rc": (aug, "rc_prob"),
        "--insert-max": (aug, "insert_max"),
        "--delete-max": (aug, "delete_max"),
        "--shift-max": (aug, "shift_max"),
        "--mutate-frac": (aug, "mutate_frac"),
        "--noise-std": (aug, "noise_std"),
        "--max-augs": (aug, "max_augs_per_seq"),
        "--finetune": (aug, "finetune"),
        "--finetune-epochs": (aug, "finetune_epochs"),
        "--finetune-lr": (aug, "finetune_lr"),
        "--phylo-rate": (phylo, "rate"),
    }
    for flag, (cfg, name) in train_fields.items():
        src[train, flag] = getattr(cfg, name)
    src[train, "--evoaug-augs"] = ",".join(aug.augs)
    src[train, "--try-heads"] = ",".join(tc.try_heads) or "none"
    src[("predict",), "--threshold"] = StreamConfig().threshold
    for cmd in (("predict",), ("explain",), ("motifs",)):
        src[cmd, "--alt-tss"] = io.ALT_TSS_MODEL
    for flag, name in (("--n-genes", "n_genes"), ("--length", "length"), ("--seed", "seed")):
        src[("demo",), flag] = default_of(make_demo_dataset, name)
    for cmd in (("explain",), ("motifs",)):
        src[cmd, "--method"] = ex.method
        src[cmd, "--n-background"] = ex.n_background
        src[cmd, "--seed"] = ex.seed
    src[("explain",), "--background"] = ex.background
    src[("explain",), "--window"] = default_of(plot_gene, "window")
    src[("tune",), "--workers"] = default_of(run_study, "workers")
    src[("tune",), "--heartbeat"] = default_of(run_study, "heartbeat_interval")
    m = ("motifs",)
    src[m, "--motif-db"] = default_of(load_motif_database, "spec")
    src[m, "--top-k"] = MatchConfig.top_k
    src[m, "--trim-threshold"] = MatchConfig.trim_threshold
    src[m, "--max-seqlets"] = motif.max_seqlets_per_metacluster
    src[m, "--sliding-window"] = motif.sliding_window_size
    src[m, "--flank"] = motif.flank_size
    src[m, "--window"] = motif.window
    src[m, "--n-leiden"] = motif.n_leiden_runs
    src[m, "--modisco-seed"] = motif.seed
    for name in ("max_indel", "motif_db", "motif_pvalue", "batch_size", "genes_per_chunk"):
        src[("variants",), "--" + name.replace("_", "-")] = getattr(variant, name)
    names = {f.name for f in fields(ExperimentConfig)}
    for path, flag, action in options(build_parser()):
        if path[:1] == ("experiment",) and len(path) == 2:
            name = {"n": "n_backgrounds"}.get(action.dest, action.dest)
            if name in names:
                src[path, flag] = getattr(experiment, name)
            elif flag == "--db-cache":
                src[path, flag] = str(DEFAULT_DB_CACHE)
    return src


SOURCES = _sources()


def test_every_option_default_is_its_source():
    parser = build_parser()
    seen = {(path, flag): action.default for path, flag, action in options(parser)}
    missing = sorted(k for k in SOURCES if k not in seen)
    assert not missing, f"options named in SOURCES that the parser lacks: {missing}"
    wrong = {k: (seen[k], v) for k, v in SOURCES.items() if seen[k] != v or type(seen[k]) is not type(v)}
    assert not wrong, f"(parser default, source) differ: {wrong}"


def test_every_default_has_a_source():
    """A default the parser sets must come from SOURCES (the library) or be one of the CLI's own choices."""
    orphans = {}
    for path, flag, action in options(build_parser()):
        key = (path, flag)
        if key in SOURCES:
            continue
        if path[:1] == ("experiment",) and flag == "--motifs-root":
            assert action.default == MOTIFS_ROOT
            continue
        if key in CLI_OWN:
            assert action.default == CLI_OWN[key], key
            continue
        if action.default == argparse.SUPPRESS:  # a sub-command's copy of a shared option: no default of its own
            continue
        if action.default is not None and action.required is False:
            orphans[key] = action.default
    assert not orphans, f"defaults without a library source (read them from a dataclass or signature): {orphans}"


@pytest.mark.parametrize(
    ("path", "flag"),
    [(("dataset", "build"), "--lfc-min"), (("motifs",), "--max-seqlets"), (("demo",), "--n-genes")],
)
def test_help_shows_the_source_default(path, flag, capsys):
    """``%(default)s`` in the help text: the number shown is the field's, never a copy."""
    with pytest.raises(SystemExit):
        build_parser().parse_args([*path, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"(default {SOURCES[path, flag]})" in text


def test_a_changed_field_moves_the_cli_default(monkeypatch):
    """The parser reads the field or signature when it is built: change it and the option follows."""
    monkeypatch.setattr(cli_main, "DatasetConfig", partial(DatasetConfig, length=321))
    monkeypatch.setattr(cli_motifs, "MotifConfig", partial(MotifConfig, flank_size=9))

    def demo(n_genes: int = 17, *, length: int = 600, seed: int = 7):
        return make_demo_dataset(n_genes, length=length, seed=seed)

    monkeypatch.setattr(cli_main, "make_demo_dataset", demo)
    parser = build_parser()
    assert parser.parse_args(["dataset", "build", "--table", "t.csv", "--out", "o.csv"]).length == 321
    assert parser.parse_args(["motifs", "--model", "m", "--out", "o"]).flank == 9
    assert parser.parse_args(["demo", "--out", "d.csv"]).n_genes == 17


def test_default_of_reads_a_signature():
    def f(a, b=3, *, c="x"):
        return a, b, c

    assert default_of(f, "b") == 3
    assert default_of(f, "c") == "x"
    with pytest.raises(ValueError, match="no default for 'a'"):
        default_of(f, "a")
    with pytest.raises(KeyError):
        default_of(f, "nope")
