"""Security (issue 8): names cannot escape the workspace, reports keep markup inert,
models load only in Keras safe mode, user files are never unpickled, the server
binds to 127.0.0.1 with an upload limit.

Dashboard-side checks (pages, uploads, the Streamlit-free helpers of ``dashboard/``)
are in ``tests/dashboard/test_security_dashboard.py``.
"""

from __future__ import annotations

import ast
import html.parser
import io
import json
import os
import re
import shutil
import subprocess
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from deepdife_core import files as _files
from deepdife_core.config import ModelConfig, RunConfig, config_to_dict
from deepdife_core.errors import ArtifactError, DeepDifEInputError
from deepdife_core.model import folder as _folder

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = ("deepdife_core", "dashboard", "pages")
CFG = ModelConfig(input_length=60, kernel_size=6, filters=4, dense_units=(4,))
XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    '" onmouseover="alert(3)',
    "<iframe src=javascript:alert(4)>",
]


def _code_files() -> list[Path]:
    return sorted(p for d in CODE_DIRS for p in (ROOT / d).rglob("*.py"))


# ----------------------------------------------------------------------------- names and paths


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.text(max_size=40))
@example("..")
@example("../x")
@example("a/../../b")
@example("/etc/passwd")
@example("C:\\Windows")
@example("x\x00y")
@example(".hidden")
@example("~root")
@example("a\nb")
def test_check_name_keeps_every_accepted_name_a_plain_child(name):
    """Whatever a user types, an accepted name is one visible folder directly inside the root."""
    root = Path("/tmp/deepdife-root")
    try:
        ok = _files.check_name(name)
    except DeepDifEInputError as exc:
        assert "is not allowed" in str(exc)
        return
    target = (root / ok).resolve()
    assert target.parent == root.resolve() and target.name == ok
    assert not ok.startswith(".") and "/" not in ok and "\\" not in ok and ".." not in ok


@pytest.mark.parametrize("bad", ["../escape", "..", "a/b", "/abs", ".hidden", "x\\..\\y", "", "x" * 101])
def test_model_folder_functions_refuse_bad_names(tmp_path, bad):
    from deepdife_core.model.cnn import build_model

    root = tmp_path / "models"
    folder = _folder.save_model_folder(root / "good", models=[build_model(CFG)], config=RunConfig(model=CFG))
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with pytest.raises(DeepDifEInputError, match="is not allowed"):
        _folder.rename_model(folder, bad)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("bad", ["../escape", "..", "a/b", "/abs", ".hidden"])
def test_study_names_cannot_escape_the_studies_folder(tmp_path, bad):
    from deepdife_core.tune import study as tune

    with pytest.raises(DeepDifEInputError, match="study name"):
        tune.record_path(bad, workspace=tmp_path)
    with pytest.raises(DeepDifEInputError, match="study name"):
        tune.default_storage(bad, workspace=tmp_path)


def test_training_output_name_is_checked_before_any_work(tmp_path, tiny_df):
    from deepdife_core.config import TrainConfig
    from deepdife_core.train.fit import train_dataset

    with pytest.raises(DeepDifEInputError, match="is not allowed"):
        train_dataset(tiny_df, train_cfg=TrainConfig(epochs=1), out=tmp_path / ".hidden")
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- the HTML motif report


class _Tags(html.parser.HTMLParser):
    """Every start tag with its attributes, as a browser would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _hand_made_run(tmp_path: Path):
    """Two hand-made patterns, seqlets on genes whose IDs are markup, a MEME database whose names are markup."""
    from deepdife_core.motifs.modisco import (
        LogoCache,
        MotifConfig,
        MotifResult,
        Pattern,
        match_motifs,
        pattern_enrichment,
        pattern_table,
        read_meme,
        seqlet_table,
    )

    rng = np.random.default_rng(8)
    gene_ids = [*XSS, "AT1G01010"]
    labels = [1, 0, 1, 0, 1]
    patterns = []
    for i, name in enumerate(["pos_patterns.pattern_0", "pos_patterns.<img src=x onerror=alert(5)>_1"]):
        ppm = rng.dirichlet(np.ones(4) * 0.3, size=10).astype(np.float32)
        cwm = (ppm * rng.normal(1.0, 0.2, size=(10, 1))).astype(np.float32)
        seqlets = pd.DataFrame(
            {
                "example_idx": [0, 1, 2, 3, 4],
                "start": [5, 9, 12, 20, 2],
                "end": [15, 19, 22, 30, 12],
                "is_revcomp": [0, 1, 0, i, 1],
            }
        ).astype({"is_revcomp": bool})
        patterns.append(Pattern(name=name, sign="pos", ppm=ppm, cwm=cwm, hypothetical=cwm, seqlets=seqlets))
    result = MotifResult(patterns, MotifConfig(), n_sequences=5, length=40)
    rows = "\n".join(" ".join(f"{v:.4f}" for v in r) for r in patterns[0].ppm)
    meme = (
        "MEME version 4\n\nALPHABET= ACGT\n\nstrands: + -\n\n"
        f"MOTIF MA0001.1 {XSS[0]}\nletter-probability matrix: alength= 4 w= 10 nsites= 20 E= 0\n{rows}\n"
    )
    db = read_meme(meme.encode(), name="<b>db</b>.meme")
    matches = match_motifs(patterns, db, top_k=1)
    seqlets = seqlet_table(patterns, gene_ids, length=40, labels=labels)
    table = pattern_table(result, matches, pattern_enrichment(seqlets, labels, [p.name for p in patterns]))
    return patterns, table, matches, seqlets, LogoCache(tmp_path / "logos"), db


def test_motif_report_renders_gene_ids_and_names_as_text(tmp_path):
    from deepdife_core.motifs.report import render_report

    patterns, table, matches, seqlets, logos, db = _hand_made_run(tmp_path)
    assert (matches["match_name"] == XSS[0]).any()  # the database name really reaches the report
    page = render_report(
        patterns,
        table,
        matches,
        seqlets,
        logos,
        info={"model": XSS[0], "dataset": XSS[1], "database": db.name, XSS[2]: {"key": XSS[3]}},
    )
    assert "<script" not in page.lower()  # the report has no script at all, least of all a user's
    for payload in XSS:
        assert payload not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown, as text
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    parser = _Tags()
    parser.feed(page)
    tags = {t for t, _ in parser.tags}
    assert not tags & {"script", "iframe", "object", "embed", "svg", "math"}
    for tag, attrs in parser.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        if tag == "img":
            assert attrs["src"].startswith("data:image/png;base64,")
    # the logo cache stayed inside its folder although a pattern name holds markup
    assert all(p.resolve().is_relative_to((tmp_path / "logos").resolve()) for p in (tmp_path / "logos").rglob("*"))


def test_report_escape_helper():
    from deepdife_core.motifs.report import esc

    assert esc("<a href='x'>&</a>") == "&lt;a href=&#x27;x&#x27;&gt;&amp;&lt;/a&gt;"
    assert esc(None) == "" and esc(float("nan")) == ""


# ----------------------------------------------------------------------------- Keras safe mode


def _lambda_model_folder(folder: Path, marker: Path) -> Path:
    """A model folder whose network holds a Lambda layer that would create ``marker`` if its code ran."""
    import keras

    marker_path = str(marker)
    inp = keras.Input((CFG.network_length, 4))
    evil = keras.layers.Lambda(lambda t: (open(marker_path, "w").close(), t[:, :1, 0])[1], output_shape=(1,))
    model = keras.Model(inp, evil(inp))
    folder.mkdir(parents=True)
    model.save(folder / "model.keras")
    if marker.exists():
        marker.unlink()  # saving traced the function once; only loading matters
    cfg = config_to_dict(RunConfig(model=CFG))
    _files.atomic_write_json(folder / "config.json", {**cfg, "format": 1, "n_members": 1})
    return folder


def test_lambda_model_is_refused_everywhere_and_its_code_never_runs(tmp_path, capsys):
    from dashboard.model_io import import_model_zip, zip_model_folder
    from deepdife_core.cli.main import main

    marker = tmp_path / "code-ran"
    folder = _lambda_model_folder(tmp_path / "evil", marker)
    with pytest.raises(ArtifactError, match="cannot be loaded safely"):
        _folder.load_model(folder)
    # the upload path of the dashboard: a clear input error, nothing registered
    models = tmp_path / "models"
    with pytest.raises(DeepDifEInputError, match=r"does not load.*Lambda"):
        import_model_zip(zip_model_folder(folder), "evil", models, filename="evil.zip")
    assert list(models.iterdir()) == []
    # the command line
    fa = tmp_path / "p.fa"
    fa.write_text(">G1\n" + "ACGT" * 15 + "\n")
    assert main(["predict", "--model", str(folder), "--fasta", str(fa), "--out", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "cannot be loaded safely" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o.csv").exists()
    assert not marker.exists(), "the Lambda layer's code was executed"


def test_keras_config_naming_other_modules_is_refused(tmp_path):
    """An edited config.json that names os.system / builtins / Keras' unsafe switch does not load."""
    from dashboard.model_io import import_model_zip
    from deepdife_core.model.cnn import build_model

    build_model(CFG).save(tmp_path / "ok.keras")
    raw = (tmp_path / "ok.keras").read_bytes()
    attacks = {
        "os.system": lambda c: c.update(module="os", class_name="system", config={"command": "touch pwned"}),
        "builtins.exec": lambda c: c.update(module="builtins", class_name="exec", config={"source": "1"}),
        "unsafe-switch": lambda c: c["config"]["layers"].__setitem__(
            1,
            {
                "module": "keras.config",
                "class_name": "enable_unsafe_deserialization",
                "config": {},
                "registered_name": None,
                "name": "x",
                "inbound_nodes": [],
            },
        ),
    }
    cfg = config_to_dict(RunConfig(model=CFG))
    for label, mutate in attacks.items():
        src = zipfile.ZipFile(io.BytesIO(raw))
        keras_buf = io.BytesIO()
        with zipfile.ZipFile(keras_buf, "w") as dst:
            for name in src.namelist():
                data = src.read(name)
                if name == "config.json":
                    spec = json.loads(data)
                    mutate(spec)
                    data = json.dumps(spec).encode()
                dst.writestr(name, data)
        upload = io.BytesIO()
        with zipfile.ZipFile(upload, "w") as zf:
            zf.writestr("config.json", json.dumps({**cfg, "format": 1}))
            zf.writestr("model.keras", keras_buf.getvalue())
        with pytest.raises(DeepDifEInputError, match="does not load"):
            import_model_zip(upload.getvalue(), "m", tmp_path / "models", filename=f"{label}.zip")
    from keras.src.saving import serialization_lib

    assert serialization_lib.in_safe_mode() is not False  # nothing switched Keras' global safe mode off
    assert not Path("pwned").exists() and not (tmp_path / "pwned").exists()


def test_every_keras_load_uses_safe_mode_and_nothing_switches_it_off():
    calls = []
    for path in _code_files():
        text = path.read_text()
        assert "safe_mode=False" not in text, path
        assert "enable_unsafe_deserialization" not in text, path
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("saving.load_model"):
                calls.append(path.name)
                kw = {k.arg: ast.unparse(k.value) for k in node.keywords}
                assert kw.get("safe_mode") == "True", f"{path}: {ast.unparse(node)}"
    assert "folder.py" in calls  # the loader that CLI, dashboard and jobs share


def test_user_files_are_never_unpickled():
    """No pickle-based loader anywhere in the code; np.load keeps its allow_pickle=False default."""
    forbidden = re.compile(
        r"\bimport (pickle|cPickle|dill|cloudpickle|joblib|shelve|marshal)\b|\bfrom (pickle|dill|joblib|shelve) import"
        r"|read_pickle|torch\.load|allow_pickle\s*=\s*True|\.pkl\b"
    )
    for path in _code_files():
        hits = forbidden.findall(path.read_text())
        assert not hits, f"{path}: {hits}"
    for path in _code_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ("np.load", "numpy.load"):
                assert all(k.arg != "allow_pickle" for k in node.keywords), path


def test_attribution_cache_refuses_a_pickled_npz(tmp_path):
    """The one np.load on disk data (the attribution cache) treats a pickled array as a cache miss."""
    from deepdife_core.interpret.explain import AttributionCache

    class Boom:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    path = tmp_path / "evil.npz"
    np.savez(path, contrib=np.array([Boom()], dtype=object))
    assert AttributionCache(tmp_path)._read(path) is None
    assert not (tmp_path / "pwned").exists()


# ----------------------------------------------------------------------------- server settings


def test_server_binds_to_localhost_and_limits_uploads():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    limit = config["server"]["maxUploadSize"]
    assert isinstance(limit, int) and 1 <= limit <= 1024  # MB
    assert config["server"].get("enableXsrfProtection", True) is True
    assert config["server"].get("enableCORS", True) is True
    assert config["client"]["showErrorDetails"] in ("none", False)  # no tracebacks in the browser
    address = config["server"].get("address")
    assert address in (None, "127.0.0.1", "localhost")
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^HOST \?= \$\(or \$\(DEEPDIFE_HOST\),127\.0\.0\.1\)$", makefile, re.M)
    run = re.search(r"^run:.*\n\t(.+)$", makefile, re.M).group(1)
    assert "-m dashboard.launch --host $(HOST)" in run
    assert config["browser"]["gatherUsageStats"] is False  # no usage statistics (issue 19)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_really_passes_127_0_0_1():
    env = {k: v for k, v in os.environ.items() if k not in ("DEEPDIFE_HOST", "HOST", "MAKEFLAGS")}
    out = subprocess.run(
        ["make", "-n", "-o", ".venv/.deepdife-installed", "run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    line = next(ln for ln in out.stdout.splitlines() if "dashboard.launch" in ln)
    assert "--host 127.0.0.1" in line
    other = subprocess.run(
        ["make", "-n", "-o", ".venv/.deepdife-installed", "run"],
        cwd=ROOT,
        env={**env, "DEEPDIFE_HOST": "0.0.0.0"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "--host 0.0.0.0" in other.stdout  # only when configured


# ----------------------------------------------------------------------------- round two (issue 19)


def _cli(args, capsys) -> tuple[int, str]:
    from deepdife_core.cli.main import main

    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,30}", fullmatch=True),
    st.sampled_from(["\n", "\r\n", "\r", "\x00", " ", "\t", "\x0b", "\x0c", "\u2028", "\n\n"]),
)
@example("evil", "\n")
@example("s", "\n")
def test_check_name_refuses_a_trailing_newline_or_space(name, tail):
    """``$`` matches before a final newline: ``check_name`` must not."""
    with pytest.raises(DeepDifEInputError, match="is not allowed"):
        _files.check_name(name + tail)
    if ".." not in name:
        assert _files.check_name(name) == name  # the same name without the tail is fine


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.text(max_size=40))
def test_accepted_names_are_only_safe_characters(name):
    try:
        ok = _files.check_name(name)
    except DeepDifEInputError:
        return
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", ok) and ok == name


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--data", "missing.csv", "--out", "{tmp}/models/evil\n"],
        ["import-legacy", "--json", "x.json", "--weights", "x.h5", "--out", "{tmp}/models/evil\n"],
        ["tune", "--data", "{data}", "--study", "s\n", "--trials", "2"],
        ["tune", "--data", "{data}", "--study", "s\n.db", "--trials", "2"],
        ["motifs", "--model", "m", "--data", "missing.csv", "--out", "{tmp}/runs/evil\n"],
        ["motifs", "--model", "m", "--data", "missing.csv", "--out", "{tmp}/DIR/..", "--overwrite"],
        ["motifs", "--model", "m", "--data", "missing.csv", "--out", "{tmp}/.", "--overwrite"],
    ],
)
def test_cli_refuses_names_with_a_newline_and_unreplaceable_folders(tmp_path, capsys, monkeypatch, argv):
    from deepdife_core.data.demo import make_demo_dataset

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEEPDIFE_WORKSPACE", str(tmp_path / "ws"))
    (tmp_path / "DIR").mkdir()
    make_demo_dataset(40, length=60, seed=1).to_csv(tmp_path / "data.csv", index=False)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    code, err = _cli([a.replace("{tmp}", str(tmp_path)).replace("{data}", "data.csv") for a in argv], capsys)
    assert code == 2
    line = _one_error_line(err)
    assert "is not allowed" in line or "is the current folder or holds it" in line, line
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing created (no 'evil\n', no study)


def test_motifs_refuses_the_current_folder_as_out(tmp_path, capsys, monkeypatch):
    here = tmp_path / "work"
    here.mkdir()
    monkeypatch.chdir(here)
    code, err = _cli(["motifs", "--model", "m", "--data", "x.csv", "--out", "../work", "--overwrite"], capsys)
    assert code == 2 and "current folder" in _one_error_line(err)
    assert here.is_dir()


LONG = "x" * 500


@pytest.mark.parametrize(
    "argv",
    [
        ["dataset", "build", "--table", "{data}", "--length", "60", "--out", f"{{tmp}}/{LONG}.csv"],
        ["dataset", "build", "--table", f"{{tmp}}/{LONG}.csv", "--out", "{tmp}/o.csv"],
        ["dataset", "build", "--labelled-fasta", f"{LONG}.fa", "--out", "{tmp}/o.csv"],
        ["demo", "--out", f"{{tmp}}/{LONG}.csv", "--n-genes", "20", "--length", "60"],
        ["demo", "--out", "{tmp}/d.csv", "--fasta", f"{{tmp}}/{LONG}.fa", "--n-genes", "20", "--length", "60"],
        ["dataset", "check", f"{{tmp}}/{LONG}.csv"],
        ["train", "--data", f"{{tmp}}/{LONG}.csv", "--out", "{tmp}/models/m"],
        ["train", "--data", "{data}", "--out", f"{{tmp}}/models/{LONG[:99]}/{LONG}"],
        ["predict", "--model", f"{{tmp}}/{LONG}", "--fasta", "{data}", "--out", "{tmp}/o.csv"],
        ["predict", "--model", "{tmp}/m", "--fasta", "{data}", "--out", f"{{tmp}}/{LONG}.csv"],
        ["evaluate", "--model", f"{{tmp}}/{LONG}", "--data", "{data}"],
    ],
)
def test_cli_long_paths_end_in_one_error_line(tmp_path, capsys, monkeypatch, argv):
    from deepdife_core.data.demo import make_demo_dataset

    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data.csv"
    make_demo_dataset(20, length=60, seed=1).to_csv(data, index=False)
    code, err = _cli([a.replace("{tmp}", str(tmp_path)).replace("{data}", str(data)) for a in argv], capsys)
    assert code == 2
    line = _one_error_line(err)
    assert "too long" in line.lower() or "is not allowed" in line, line
    assert len(line) < 400 or "is not allowed" in line  # a 500-character path is shortened


def _legacy_json(path: Path, *, units: int = 256, rows: int = 620) -> Path:
    """A Keras 2 layer list in DeepDifE's published layout (as data; no weights needed to be refused)."""
    conv = {"filters": 64, "kernel_size": [12, 4], "strides": [1, 1]}
    layers = [
        {"class_name": "Conv2D", "config": {**conv, "batch_input_shape": [None, rows, 4, 1]}},
        {"class_name": "MaxPooling2D", "config": {"pool_size": [6, 1]}},
        {"class_name": "Conv2D", "config": {"filters": 64, "kernel_size": [6, 1], "strides": [6, 1]}},
        {"class_name": "Dropout", "config": {"rate": 0.25}},
        {"class_name": "Dense", "config": {"units": units}},
        {"class_name": "Dense", "config": {"units": 1}},
    ]
    path.write_text(json.dumps({"config": {"layers": layers}}))
    return path


@pytest.mark.parametrize(("units", "rows", "match"), [(10**12, 620, "weights"), (256, 2 * 10**9, "rows")])
def test_huge_legacy_networks_are_refused_before_tensorflow_allocates_them(tmp_path, capsys, units, rows, match):
    from dashboard.model_io import import_legacy_files
    from deepdife_core.model.cnn import legacy_config
    from deepdife_core.model.folder import check_network_size

    js = _legacy_json(tmp_path / "model_single.json", units=units, rows=rows)
    with pytest.raises(DeepDifEInputError, match=match):
        check_network_size(legacy_config(js), js.name)
    code, err = _cli(["import-legacy", "--json", js, "--weights", tmp_path / "w.h5", "--out", tmp_path / "m"], capsys)
    assert code == 2 and match in _one_error_line(err)
    with pytest.raises(DeepDifEInputError, match=match):
        import_legacy_files(js.read_bytes(), b"", "big", tmp_path / "models")
    assert not (tmp_path / "m").exists() and not (tmp_path / "models" / "big").exists()


def test_network_size_estimate_is_exact():
    from dataclasses import replace

    from deepdife_core.model.cnn import build_model
    from deepdife_core.model.folder import network_weights

    for cfg in (CFG, ModelConfig(input_length=600), ModelConfig(input_length=333, n_conv=3)):
        for head in ("flatten", "global_max", "region_max", "global_region"):
            net = replace(cfg, head=head)
            assert network_weights(net) == build_model(net).count_params(), net


# ----------------------------------------------------------------------------- decompression bombs


def _gz_bomb(inner_mb: int, head: bytes = b">G1_1\n") -> bytes:
    import gzip

    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=6) as gz:
        gz.write(head)
        block = b"A" * (1 << 20)
        for _ in range(inner_mb):
            gz.write(block)
    return buf.getvalue()


def _peak_mb(fn) -> tuple[BaseException | None, float]:
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
        raised = None
    except BaseException as exc:  # returned to the test
        raised = exc
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return raised, peak / 2**20


@pytest.fixture
def small_cap(monkeypatch):
    """A 4 MB decompression cap (the default is 512 MB; the env variable overrides it)."""
    from deepdife_core.data import io as dio

    monkeypatch.setenv(dio.DECOMPRESSED_ENV, "4")
    return 4


@pytest.mark.parametrize(
    "reader",
    ["fasta-bytes", "fasta-path", "table", "gene-list", "orthologs", "labels+fasta", "labelled-fasta"],
)
def test_gzip_bombs_stop_at_the_cap_with_a_clear_message(tmp_path, small_cap, reader):
    from deepdife_core.data import io as dio

    bomb = _gz_bomb(64, head=b">G1_1\n" if "fasta" in reader else b"gene_id,label\n")
    path = tmp_path / "bomb.gz"
    path.write_bytes(bomb)
    labels = tmp_path / "labels.csv"
    labels.write_text("gene_id,label\nG1,1\nG2,0\n")
    calls = {
        "fasta-bytes": lambda: dio.read_fasta(bomb, name="bomb.fa.gz"),
        "fasta-path": lambda: dio.read_fasta(path),
        "table": lambda: dio.read_table(bomb, name="bomb.csv.gz"),
        "gene-list": lambda: dio.read_gene_list(path),
        "orthologs": lambda: dio.read_ortholog_table(path),
        "labels+fasta": lambda: dio.dataset_from_labels(labels, path),
        "labelled-fasta": lambda: dio.dataset_from_labelled_fasta(path),
    }
    raised, peak = _peak_mb(calls[reader])
    assert isinstance(raised, DeepDifEInputError), raised
    msg = str(raised)
    assert "more than 4 MB" in msg and "DEEPDIFE_MAX_DECOMPRESSED_MB" in msg and "bomb" in msg
    assert peak < 32, f"{peak:.0f} MB allocated for a 64 MB bomb: not streamed"


def test_gzip_under_the_cap_still_reads_and_the_cap_is_configurable(tmp_path, monkeypatch):
    import gzip

    from deepdife_core.data import io as dio

    fa = gzip.compress(b">G1\n" + b"ACGT" * 1024 * 512 + b"\n")  # 2 MB inside
    assert len(dio.read_fasta(fa, name="ok.fa.gz")[0].sequence) == 2 * 2**20
    with pytest.raises(DeepDifEInputError, match="more than 1 MB"):
        dio._open_text(fa, "ok.fa.gz", max_bytes=2**20)  # the keyword default of every reader
    monkeypatch.setenv(dio.DECOMPRESSED_ENV, "1")
    with pytest.raises(DeepDifEInputError, match="more than 1 MB"):
        dio.read_fasta(fa, name="ok.fa.gz")
    monkeypatch.setenv(dio.DECOMPRESSED_ENV, "lots")
    with pytest.raises(DeepDifEInputError, match="DEEPDIFE_MAX_DECOMPRESSED_MB='lots'"):
        dio.read_fasta(fa, name="ok.fa.gz")
    monkeypatch.delenv(dio.DECOMPRESSED_ENV)
    assert dio.decompressed_limit() == dio.MAX_DECOMPRESSED_BYTES == 512 * 2**20
    with pytest.raises(DeepDifEInputError, match="corrupt gzip"):
        dio.read_fasta(fa[:-30], name="cut.fa.gz")


def test_xlsx_and_parquet_bombs_are_refused_from_their_declared_sizes(tmp_path, small_cap):
    from deepdife_core.data import io as dio

    xlsx = io.BytesIO()
    with zipfile.ZipFile(xlsx, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"<c/>" * (2**20 * 2))  # 8 MB inside
    with pytest.raises(DeepDifEInputError, match="workbook unpacks to more than 4 MB"):
        dio.read_table(xlsx.getvalue(), name="bomb.xlsx")
    (tmp_path / "bomb.xlsx").write_bytes(xlsx.getvalue())
    with pytest.raises(DeepDifEInputError, match=r"bomb\.xlsx: the workbook"):
        dio.read_table(tmp_path / "bomb.xlsx")
    df = pd.DataFrame({"gene_id": ["G"] * 300_000, "label": 1, "family": "F", "sequence": "ACGT" * 10})
    df.to_parquet(tmp_path / "bomb.parquet")
    with pytest.raises(DeepDifEInputError, match=r"bomb\.parquet: the table unpacks to more than 4 MB"):
        dio.load_dataset(tmp_path / "bomb.parquet")


def test_cli_reports_a_gzip_bomb_in_one_line_and_takes_the_cap_flag(tmp_path, capsys, monkeypatch):
    from deepdife_core.data import io as dio

    monkeypatch.delenv(dio.DECOMPRESSED_ENV, raising=False)
    bomb = tmp_path / "bomb.fa.gz"
    bomb.write_bytes(_gz_bomb(8))
    argv = ["dataset", "build", "--labelled-fasta", bomb, "--length", "60", "--out", tmp_path / "o.csv"]
    code, err = _cli([*argv[:2], "--max-decompressed-mb", "2", *argv[2:]], capsys)
    assert code == 2
    line = _one_error_line(err)
    assert "bomb.fa.gz: decompresses to more than 2 MB" in line and "--max-decompressed-mb" in line
    assert not (tmp_path / "o.csv").exists()
    code, err = _cli([*argv[:2], "--max-decompressed-mb", "0", *argv[2:]], capsys)
    assert code == 2 and "--max-decompressed-mb" in _one_error_line(err)
