"""Property-based fuzzing of every parser and builder (issue 8, "bad input").

Each entry of :data:`CASES` pairs a hypothesis strategy that writes messy user
files (FASTA plain/gz with empty records, Windows/old-Mac line endings, lower
case, IUPAC, '>' inside sequences, binary garbage, huge single lines; CSV/TSV/XLSX
tables with missing/extra/renamed/duplicated columns, text labels, NaN,
duplicated IDs, BOM, wrong delimiter; gene lists with whitespace, versions and
mixed case; DE tables with text in numbers and all genes in the grey zone;
ortholog tables; MEME files truncated or of the wrong alphabet; model zips that
are corrupt, zip-slip or hold a Lambda layer; the CLI on all of these) with a
*check* that feeds it to the real parser and asserts the contract:

* the call returns a **valid result** (checked field by field against the data
  contracts in ARCHITECTURE.md), or
* it raises :class:`~deepdife_core.errors.DeepDifEInputError` whose message is
  one non-empty line naming the file (or the bad value), and
* any other exception propagates and fails the test (a bug), and nothing is
  written: input folders are unchanged, output folders hold no partial file.

``make test`` runs each check on a modest, derandomised number of examples;
``bench/bench_fuzz.py`` imports this module and runs the same checks on >= 1,000
generated inputs each, counting the outcomes.
"""

from __future__ import annotations

import ast
import contextlib
import csv
import functools
import gzip
import io
import json
import re
import shutil
import stat
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from deepdife_core.config import DatasetConfig, ModelConfig
from deepdife_core.data import io as dio
from deepdife_core.data.encode import VALID_CHARS, n_fraction
from deepdife_core.errors import DeepDifEInputError

#: examples per check in ``make test`` (the bench runs >= 1,000)
TEST_EXAMPLES = 60
FUZZ = settings(
    max_examples=TEST_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
LENGTH = 24  # dataset length L used by the builders (small, so fitting pads and trims)

# ----------------------------------------------------------------------------- shared helpers


def assert_clear(exc: BaseException, names: list[str]) -> None:
    """The message is one non-empty line that names one of ``names`` (a file, or the bad value's field)."""
    msg = str(exc)
    assert msg.strip(), f"empty message for {type(exc).__name__}"
    assert "Traceback" not in msg
    assert "\n" not in msg.strip(), f"message spans several lines: {msg!r}"
    assert any(n in msg for n in names), f"message names none of {names}: {msg!r}"


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Relative path -> (size, mtime_ns) of everything under ``folder``."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size if p.is_file() else -1, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


def outcome(call: Callable[[], Any], names: list[str]) -> tuple[str, Any]:
    """("valid", result) or ("error", exc) for a clear DeepDifEInputError; anything else propagates."""
    try:
        return "valid", call()
    except DeepDifEInputError as exc:
        assert_clear(exc, names)
        return "error", exc


def check_records(records: list[dio.FastaRecord]) -> None:
    assert records
    # repeated IDs (alternative TSSs) are allowed; every record still gets its own identity
    names = dio.record_ids(
        [r.id.split("::")[0] or r.id for r in records], [dio.coords_from_header(r.header) for r in records]
    )
    assert len({n.upper() for n in names}) == len(names)
    for r in records:
        assert r.id and r.id == r.header.split()[0]
        assert r.sequence and set(r.sequence) <= VALID_CHARS, r.sequence[:40]
        assert r.line >= 1


def check_dataset(df: pd.DataFrame, report: dio.BuildReport, cfg: DatasetConfig) -> None:
    """The dataset-table contract of ARCHITECTURE.md."""
    assert list(df.columns[:4]) == ["gene_id", "label", "family", "sequence"]
    assert len(df) >= 1 and report.n_kept == len(df)
    assert set(df["label"].tolist()) == {0, 1}
    ids = df["gene_id"].tolist()
    assert all(isinstance(g, str) and g and g == g.strip() for g in ids)
    keys = [dio.normalize_id(g) for g in ids]
    assert len(set(keys)) == len(keys)
    seqs = df["sequence"].tolist()
    assert all(len(s) == cfg.length for s in seqs)
    assert set("".join(seqs)) <= VALID_CHARS
    assert (n_fraction(seqs) <= cfg.max_n_fraction).all()
    assert all(isinstance(f, str) and f.strip() for f in df["family"].tolist())
    if "split" in df.columns:
        assert set(df["split"]) <= set(dio.SPLITS)


@contextlib.contextmanager
def workdir():
    """A temporary folder (hypothesis examples cannot use pytest's function-scoped tmp_path)."""
    with tempfile.TemporaryDirectory(prefix="deepdife-fuzz-") as d:
        yield Path(d)


# ----------------------------------------------------------------------------- strategies: IDs and sequences
#
# Every strategy takes ``messy``: False draws a well-formed file (as a careful user
# writes it: any case, versions, gzip, Windows line endings are all fine); True
# mixes in the defects the issue lists.  Composite cases draw ``messy`` once, so
# about half of all inputs can be valid and half exercise the error paths.

MESSY = st.booleans()
GOOD_IDS = st.from_regex(r"A[Tt][1-5CM][Gg][0-9]{5}(\.[0-9])?", fullmatch=True)
POOL_IDS = st.from_regex(r"A[Tt][1-5CM][Gg][0-9]{5}", fullmatch=True)  # _perturb may add the version
ODD_IDS = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "gene",
        "gene_id",
        "NA",
        "None",
        "null",
        "nan",
        "::",
        "x::Chr1:1-10(+)",
        "AT1G01010.1",
        "at1g01010",
        " AT1G01010 ",
        "a b",
        "#comment",
        "é\u00e8",
        "\u017f",
        "G_1",
        "G_0",
    ]
)
IDS = st.one_of(GOOD_IDS, GOOD_IDS, ODD_IDS, st.text(max_size=10))
CLEAN_DNA = st.text(alphabet="ACGTacgtN", min_size=16, max_size=40)
DNA = st.text(alphabet="ACGTNacgtn", min_size=1, max_size=40)
IUPAC = st.text(alphabet="ACGTNRYSWKMBDHVacgtryswkmbdhv-", min_size=1, max_size=30)
HUGE = st.integers(min_value=1_000, max_value=120_000).map(lambda n: "ACGT" * (n // 4))
JUNK = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["AC>GT", "ACGTX", "AC GT", "\u017fACGT", "ACGT\u212a", "1234", "ACG\tT", "ACGT\x00", "ACGT;x"]),
)
SEQS = st.one_of(DNA, DNA, DNA, IUPAC, HUGE, JUNK)
CLEAN_EOLS = st.sampled_from(["\n", "\n", "\r\n"])
EOLS = st.sampled_from(["\n", "\n", "\r\n", "\r"])


def chance(draw, n: int) -> bool:
    """True about once in ``n`` draws (``sampled_from`` is uniform; ``integers`` favours small values)."""
    return draw(st.sampled_from(range(n))) == 0


def _wrap(draw, data: bytes, messy: bool) -> bytes:
    """Plain or gzip; a messy file may also be a truncated gzip."""
    wrap = draw(st.sampled_from(["plain", "plain", "gzip"] + (["gzip-truncated"] if messy else [])))
    if wrap == "gzip":
        return gzip.compress(data, mtime=0)
    if wrap == "gzip-truncated":
        comp = gzip.compress(data, mtime=0)
        return comp[: max(2, int(len(comp) * draw(st.floats(0.0, 0.95))))]
    return data


def _encode(draw, text: str, messy: bool) -> bytes:
    encodings = ["utf-8", "utf-8", "utf-8-sig"] + (["latin-1", "utf-16"] if messy else [])
    return text.encode(draw(st.sampled_from(encodings)), errors="replace")


def _dna_lines(draw, seq: str) -> list[str]:
    """A sequence wrapped at some width (or on one line)."""
    width = draw(st.sampled_from([len(seq) or 1, 10, 60]))
    return [seq[i : i + width] for i in range(0, len(seq), width)] or [seq]


@st.composite
def fasta_bytes(draw, ids=None, labelled: bool = False, messy: bool | None = None) -> bytes:
    """A FASTA file; messy ones have empty records/headers, junk, '>' inside, huge lines, garbage bytes."""
    messy = draw(MESSY) if messy is None else messy
    if messy and chance(draw, 8):
        return _wrap(draw, draw(st.binary(max_size=200)), messy)
    if ids:
        chosen = draw(st.lists(st.sampled_from(ids), max_size=8, unique=not messy))
    elif messy:
        chosen = draw(st.lists(IDS, max_size=8))
    else:
        chosen = draw(st.lists(GOOD_IDS, min_size=1, max_size=8, unique_by=dio.normalize_id))
    eol = draw(EOLS if messy else CLEAN_EOLS)
    lines: list[str] = []
    if messy:
        prefix = draw(st.sampled_from(["", "; a comment", "ACGT", "\n"]))
        if prefix:
            lines.append(prefix)
    for gid in chosen:
        suffixes = ["", "", " description text"] + (["::Chr1:100-700(+)"] if messy or not labelled else [])
        suffix = draw(st.sampled_from(suffixes))
        label = draw(st.sampled_from(["_1", "_0"] + (["_2", ""] if messy else []))) if labelled else ""
        header = f"{gid}{label}{suffix}"
        if messy:
            header = draw(st.sampled_from([header, header, header, "", " "]))
            lines.append(">" + header)
            lines += [draw(SEQS) for _ in range(draw(st.integers(0, 3)))]
            if draw(st.booleans()):
                lines.append(draw(st.sampled_from(["", "  ", "; note"])))
        else:
            lines.append(">" + header)
            lines += _dna_lines(draw, draw(CLEAN_DNA))
            if chance(draw, 4):
                lines.append("")
    text = eol.join(lines) + draw(st.sampled_from(["", eol]))
    return _wrap(draw, _encode(draw, text, messy), messy)


# ----------------------------------------------------------------------------- strategies: tables

CLEAN_LABELS = st.sampled_from(["0", "1", "1.0", "0.0", "true", "False", " 1 ", "TRUE"])
BAD_LABELS = st.sampled_from(["2", "-1", "0.5", "yes", "responsive", "", "NA", "nan", "None", "1,0"])
CLEAN_SPLITS = st.sampled_from(["train", "val", "test", "Train", " test"])
BAD_SPLITS = st.sampled_from(["", "holdout", "validation"])
COLUMN_VARIANTS = {
    "gene_id": ["gene_id", "gene_id", "Gene_ID", " gene_id"],
    "label": ["label", "label", "Label", "label "],
    "sequence": ["sequence", "sequence", "SEQUENCE"],
    "family": ["family", "Family"],
    "split": ["split", "Split"],
    "coords": ["coords"],
    "extra": ["notes", "score"],
}
RENAMED = {"gene_id": ["gene", "geneid"], "label": ["labels", "class"], "sequence": ["seq"], "extra": ["label"]}


@st.composite
def table_rows(draw, *, with_sequence: bool, ids=None, messy: bool = False) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a labelled table; messy ones rename/drop/duplicate columns and hold odd values."""
    wanted = ["gene_id", "label"] + (["sequence"] if with_sequence else [])
    optional = draw(st.lists(st.sampled_from(["family", "split", "coords", "extra"]), max_size=3, unique=True))
    if messy and chance(draw, 5):  # a required column is missing
        wanted.remove(draw(st.sampled_from(wanted)))
    columns = draw(st.permutations(wanted + optional))
    header = []
    for c in columns:
        variants = COLUMN_VARIANTS[c] + (RENAMED.get(c, []) if messy and chance(draw, 4) else [])
        header.append(draw(st.sampled_from(variants)))
    if ids:
        gene_ids = draw(st.lists(st.sampled_from(ids), min_size=0 if messy else 2, max_size=8, unique=not messy))
    elif messy:
        gene_ids = draw(st.lists(IDS, max_size=8))
    else:
        gene_ids = draw(st.lists(GOOD_IDS, min_size=2, max_size=8, unique_by=dio.normalize_id))
    rows = []
    for i, gid in enumerate(gene_ids):
        odd = messy and chance(draw, 4)  # one row in four of a messy table has a bad value
        labels = BAD_LABELS if odd and draw(st.booleans()) else CLEAN_LABELS
        if not messy and i < 2:  # a clean table has both classes
            labels = st.sampled_from(["1", "1.0", "true", " 1 "] if i == 0 else ["0", "0.0", "False"])
        values = {
            "gene_id": gid,
            "label": draw(labels),
            "sequence": draw(SEQS if odd else CLEAN_DNA),
            "family": draw(st.sampled_from(["", "F1", "F2", "NA", gid])),
            "split": draw(BAD_SPLITS if odd else CLEAN_SPLITS),
            "coords": "Chr1:1-600(+)",
            "extra": draw(st.text(max_size=8)),
        }
        row = [values[c] for c in columns]
        if odd:
            ragged = draw(st.integers(0, 5))
            if ragged == 0 and row:
                row = row[:-1]
            elif ragged == 1:
                row = [*row, "surplus"]
        rows.append(row)
    return header, rows


@st.composite
def table_file(draw, *, with_sequence: bool = True, ids=None, messy: bool | None = None) -> tuple[bytes, str]:
    """(bytes, file name) of a CSV/TSV/XLSX table; messy ones may be BOM'ed, mis-named, mis-delimited or garbage."""
    messy = draw(MESSY) if messy is None else messy
    kind = draw(st.sampled_from(["csv", "csv", "xlsx"] + (["garbage"] if messy else [])))
    if kind == "garbage":
        return _wrap(draw, draw(st.binary(max_size=200)), messy), draw(st.sampled_from(["t.csv", "t.xlsx"]))
    header, rows = draw(table_rows(with_sequence=with_sequence, ids=ids, messy=messy))
    if kind == "xlsx":
        from openpyxl import Workbook
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        def cell(v: str) -> str:  # what a spreadsheet can hold: no control characters, no formulas
            v = ILLEGAL_CHARACTERS_RE.sub("", v)
            return "'" + v if v.startswith("=") else v

        wb = Workbook()
        ws = wb.active
        ws.append([cell(h) for h in header])
        for r in rows:
            ws.append([cell(v) for v in r])
        buf = io.BytesIO()
        wb.save(buf)
        data = buf.getvalue()
        if messy and chance(draw, 4):  # truncated workbook (openpyxl stamps the time: cut by fraction)
            data = data[: max(1, int(len(data) * draw(st.floats(0.01, 0.99))))]
        return data, draw(st.sampled_from(["t.xlsx", "t.xlsx"] + (["t.csv"] if messy else [])))
    seps = [",", "\t"] + ([";", "|", " "] if messy else [])
    sep = draw(st.sampled_from(seps))
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(header)
    writer.writerows(rows)
    text = buf.getvalue()
    if chance(draw, 5):
        text = "\ufeff" + text  # a BOM (Excel's "CSV UTF-8")
    data = _wrap(draw, _encode(draw, text, messy), messy)
    names = {",": "t.csv", "\t": "t.tsv"}
    name = draw(st.sampled_from([names.get(sep, "t.txt"), "t.txt"] + (["t.xlsx", "t.csv"] if messy else [])))
    return data, name


@st.composite
def pool(draw, min_size: int = 2) -> list[str]:
    """A few distinct, well-formed gene IDs shared by the files of one multi-file example."""
    return draw(st.lists(POOL_IDS, min_size=min_size, max_size=8, unique_by=dio.normalize_id))


def _perturb(draw, gid: str) -> str:
    """The same gene as a user might write it: other case, a version, surrounding spaces."""
    gid = draw(st.sampled_from([gid, gid, gid.lower(), gid.upper(), gid + ".1", gid + ".2"]))
    return draw(st.sampled_from(["", "", " ", "\t"])) + gid + draw(st.sampled_from(["", "", " ", "  "]))


@st.composite
def pool_fasta(draw, ids: list[str], messy: bool = False) -> bytes:
    """A FASTA holding (most of) ``ids`` with location suffixes; messy ones add the FASTA defects."""
    if messy and chance(draw, 4):
        return draw(fasta_bytes(ids=ids, messy=True))
    eol = draw(EOLS if messy else CLEAN_EOLS)
    lines = []
    for gid in draw(st.permutations(ids)):
        if messy and chance(draw, 7):
            continue  # a gene without a promoter
        suffix = draw(st.sampled_from(["", "::Chr2:10-610(-)", " promoter", ".1"]))
        lines.append(">" + gid + suffix)
        lines += _dna_lines(draw, draw(st.one_of(CLEAN_DNA, CLEAN_DNA, IUPAC, JUNK) if messy else CLEAN_DNA))
    lines += [">UNRELATED1", "ACGTACGTACGTACGTAA"]
    if messy and draw(st.booleans()):
        lines += [">" + draw(IDS), draw(SEQS)]
    return _wrap(draw, _encode(draw, eol.join(lines) + eol, messy), messy)


@st.composite
def gene_list(draw, ids: list[str], messy: bool = False) -> bytes:
    """One ID per line with whitespace, versions, case, comments, a header, extra columns."""
    lines = []
    if draw(st.booleans()):
        lines.append(draw(st.sampled_from(["gene_id", "Gene", "# responsive genes", "id\tscore"])))
    for gid in draw(st.lists(st.sampled_from(ids), min_size=0 if messy else 1, max_size=8, unique=not messy)):
        lines.append(_perturb(draw, gid) + draw(st.sampled_from(["", "", "\t3.2", ",x"])))
        if chance(draw, 5):
            lines.append(draw(st.sampled_from(["", "   ", "# comment"] + ([draw(IDS)] if messy else []))))
    text = draw(EOLS if messy else CLEAN_EOLS).join(lines)
    return _wrap(draw, _encode(draw, text, messy), messy)


CLEAN_NUMBERS = st.one_of(
    st.floats(min_value=-8, max_value=8).map(lambda v: f"{v:.3g}"),
    st.floats(min_value=0, max_value=1).map(lambda v: f"{v:.3g}"),
    st.sampled_from(["NA", "", "1e-300", " 0.01 ", "0"]),
)
BAD_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["abc", "1,5", "0x1A", "Inf", "-inf", "NaN", "high", "1.5.2"]),
)


@st.composite
def de_file(draw, ids: list[str], messy: bool = False) -> tuple[bytes, str]:
    """A DE table (gene, log2FoldChange, padj + extras); messy ones hold text in numbers, p > 1, renamed columns."""
    cols = ["gene_id", "log2FoldChange", "padj", "baseMean"]
    header = [draw(st.sampled_from([c, c, c.lower(), c.upper()] + (["x"] if messy else []))) for c in cols]
    rows = []
    for i, gid in enumerate(
        draw(st.lists(st.sampled_from(ids), min_size=0 if messy else 3, max_size=10, unique=not messy))
    ):
        if messy and chance(draw, 4):
            lfc, padj = draw(BAD_NUMBERS), draw(st.one_of(BAD_NUMBERS, CLEAN_NUMBERS))
        elif messy and draw(st.booleans()):
            lfc, padj = draw(CLEAN_NUMBERS), draw(CLEAN_NUMBERS)
        else:  # a gene of a known kind: strongly up / down, flat, grey zone, or untested (NA)
            kinds = ["up", "down", "flat", "flat", "grey", "na"]
            kind = draw(st.sampled_from(kinds)) if messy or i > 2 else ("up", "down", "flat")[i]  # both classes
            lfc, padj = {
                "up": (draw(st.floats(2.5, 8)), draw(st.floats(0, 0.01))),
                "down": (-draw(st.floats(2.5, 8)), draw(st.floats(0, 0.01))),
                "flat": (draw(st.floats(-0.2, 0.2)), draw(st.floats(0.6, 1))),
                "grey": (1.5, 0.3),
                "na": (draw(st.floats(-1, 1)), "NA"),
            }[kind]
            lfc, padj = f"{lfc:.4g}", padj if isinstance(padj, str) else f"{padj:.3g}"
        rows.append([_perturb(draw, gid), lfc, padj, "10"])
    sep = draw(st.sampled_from([",", "\t", "\t"] + ([";"] if messy else [])))
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\n").writerows([header, *rows])
    name = {",": "de.csv", "\t": "de.tsv"}.get(sep, "de.txt")
    return _wrap(draw, _encode(draw, buf.getvalue(), messy), messy), name


CLEAN_THRESHOLDS = st.fixed_dictionaries(
    {
        "lfc_min": st.sampled_from([1.0, 0.5, 2.0]),
        "padj_max": st.sampled_from([0.05, 0.1, 0.5]),
        "lfc_neg_max": st.sampled_from([0.5, 0.25, 1.0]),
        "padj_neg_min": st.sampled_from([0.5, 0.2, 0.0]),
        "direction": st.sampled_from(["both", "both", "up", "down"]),
    }
)
BAD_THRESHOLDS = st.fixed_dictionaries(
    {
        "lfc_min": st.floats(allow_nan=True, allow_infinity=True),
        "padj_max": st.floats(min_value=-0.5, max_value=1.5),
        "lfc_neg_max": st.floats(min_value=-1, max_value=10),
        "padj_neg_min": st.floats(min_value=-0.5, max_value=1.5),
        "direction": st.sampled_from(["both", "up", "down", "sideways"]),
    }
)


@st.composite
def ortholog_file(draw, ids: list[str], others: list[str], messy: bool = False) -> bytes:
    """gene_id / ortholog_id [/ species] pairs, with or without a header, several delimiters; messy: short rows."""
    lines = []
    header = draw(st.sampled_from(["gene_id\tortholog_id\tspecies", "gene_id,ortholog_id", "GENE_ID ORTHOLOG_ID", ""]))
    if header:
        lines.append(header)
    sep = draw(st.sampled_from(["\t", ",", " "]))
    for _ in range(draw(st.integers(0 if messy else 1, 8))):
        row = [_perturb(draw, draw(st.sampled_from(ids))).strip(), draw(st.sampled_from(others))]
        if draw(st.booleans()):
            row.append(draw(st.sampled_from(["crubella", "A.thaliana"] + ([""] if messy else []))))
        if messy and chance(draw, 5):
            row = row[:1]
        lines.append(sep.join(row))
        if chance(draw, 9):
            lines.append(draw(st.sampled_from(["# comment", ""] + ([draw(st.text(max_size=12))] if messy else []))))
    return _wrap(draw, _encode(draw, "\n".join(lines), messy), messy)


# ----------------------------------------------------------------------------- strategies: MEME

PROB_ROW = st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=4, max_size=4).map(
    lambda r: [v / sum(r) for v in r] if sum(r) > 1e-3 else [0.25] * 4
)


@st.composite
def meme_bytes(draw, messy: bool | None = None) -> bytes:
    """MEME minimal format; messy: wrong alphabet, missing/short/long matrices, odd nsites/w, cut files, garbage."""
    messy = draw(MESSY) if messy is None else messy
    if messy and chance(draw, 9):
        return draw(st.binary(max_size=200))

    def pick(good: list, bad: list):
        return draw(st.sampled_from(good + (bad if messy else [])))

    lines = [pick(["MEME version 4", "MEME version 5.5.4"], ["MEM version 4", ""])]
    alphabet = pick(["ALPHABET= ACGT", None], ["ALPHABET= ACDEFGHIKLMNPQRSTVWY", "ALPHABET= ACGU", "ALPHABET"])
    if alphabet:
        lines.append(alphabet)
    lines += ["strands: + -", "Background letter frequencies", "A 0.25 C 0.25 G 0.25 T 0.25", ""]
    ids = draw(st.lists(st.from_regex(r"MA[0-9]{4}\.[0-9]", fullmatch=True), min_size=1, max_size=4, unique=not messy))
    for mid in ids:
        lines.append(pick([f"MOTIF {mid} ABF1", f"MOTIF {mid}"], ["MOTIF"]))
        width = draw(st.integers(1, 8))
        w_field = pick([f"w= {width}", f"w={width}"], ["w= 0", ""])
        alen = pick(["alength= 4", ""], ["alength= 20"])
        nsites = pick(["nsites= 20", "nsites= 20.0", ""], ["nsites= 1e999", "nsites= .", "nsites= 3e5"])
        if not messy or not chance(draw, 10):
            lines.append(f"letter-probability matrix: {alen} {w_field} {nsites} E= 0")
        n_rows = pick([width], [max(0, width - 1), width + 1])
        for _ in range(n_rows):
            kind = draw(st.integers(0, 9)) if messy else 9
            if kind == 0:
                lines.append(" ".join(f"{v:.4f}" for v in draw(st.lists(st.floats(0, 1), min_size=3, max_size=5))))
            elif kind == 1:
                lines.append(draw(st.sampled_from(["0.1 0.2 x 0.7", "nan 0 0 1", "-0.5 0.5 0.5 0.5", "1e999 0 0 0"])))
            else:
                lines.append(" ".join(f"{v:.6f}" for v in draw(PROB_ROW)))
        lines.append(draw(st.sampled_from(["", "", "URL http://jaspar.genereg.net/matrix/MA0001.1"])))
    text = "\n".join(lines) + "\n"
    if messy and chance(draw, 4):  # truncated file
        text = text[: int(len(text) * draw(st.floats(0, 1)))]
    return _encode(draw, text, messy)


# ----------------------------------------------------------------------------- model payloads (built once)

ZIP_CFG = ModelConfig(input_length=60, kernel_size=6, filters=4, dense_units=(4,))


@functools.cache
def payloads() -> dict[str, bytes]:
    """Bytes of model files and configs used to assemble fuzzed model zips (built once per process)."""
    import keras

    from deepdife_core.config import RunConfig, config_to_dict
    from deepdife_core.model.cnn import build_model

    with tempfile.TemporaryDirectory() as d:
        ok = Path(d) / "ok.keras"
        build_model(ZIP_CFG, seed=0).save(ok)
        inp = keras.Input((60, 4))
        out = keras.layers.Lambda(lambda t: t[:, :1, 0])(inp)
        lam = Path(d) / "lambda.keras"
        keras.Model(inp, out).save(lam)
        ok_bytes, lambda_bytes = ok.read_bytes(), lam.read_bytes()
    cfg = config_to_dict(RunConfig(model=ZIP_CFG))
    cfg.update(format=1, n_members=1)
    other = config_to_dict(RunConfig(model=ModelConfig(input_length=100, kernel_size=6)))
    return {
        "keras_ok": ok_bytes,
        "keras_lambda": lambda_bytes,
        "keras_module_os": rewrite_keras_config(
            ok_bytes, lambda c: c.update(module="os", class_name="system", config={"command": "true"})
        ),
        "keras_truncated": ok_bytes[: len(ok_bytes) // 2],
        "garbage": b"not a model at all",
        "empty": b"",
        "json_ok": json.dumps(cfg).encode(),
        "json_other_length": json.dumps(other).encode(),
        "json_garbage": b"{nope",
        "json_list": b"[1, 2, 3]",
        "json_bad_types": json.dumps({"model": {"filters": "many", "dense_units": 5}}).encode(),
    }


def rewrite_keras_config(keras_bytes: bytes, mutate: Callable[[dict], None]) -> bytes:
    """A copy of a ``.keras`` zip whose ``config.json`` was changed by ``mutate`` (an attacker's edit)."""
    src = zipfile.ZipFile(io.BytesIO(keras_bytes))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "config.json":
                cfg = json.loads(data)
                mutate(cfg)
                data = json.dumps(cfg).encode()
            dst.writestr(name, data)
    return buf.getvalue()


PAYLOAD_KEYS = [
    "keras_ok",
    "keras_lambda",
    "keras_module_os",
    "keras_truncated",
    "garbage",
    "empty",
    "json_ok",
    "json_other_length",
    "json_garbage",
    "json_list",
    "json_bad_types",
]
MEMBER_NAMES = [
    "config.json",
    "model.keras",
    "folds/0/model.keras",
    "folds/1/model.keras",
    "folds/x/model.keras",
    "top/config.json",
    "top/model.keras",
    "../escape.txt",
    "../../escape.txt",
    "top/../../escape.txt",
    "/abs/config.json",
    "C:/evil/config.json",
    "..\\..\\escape.txt",
    "model.keras/inner.txt",
    "config.json/",
    "top/",
    "notes.txt",
]
ZIP_NAMES = ["m", "m", "model-1", "new.model_2", "../evil", "a/b", "", ".hidden", "x" * 101]


@st.composite
def model_zip_spec(draw, messy: bool | None = None) -> dict:
    """How to assemble a model zip: members (path, payload, kind), corruption, the registry name.

    A clean zip is what the Models page exports (config.json + model.keras, maybe under one
    top folder); a messy one adds unsafe paths, links, folders, bad payloads, damage, bad names.
    """
    messy = draw(MESSY) if messy is None else messy
    top = draw(st.sampled_from(["", "", "top/"]))
    if not messy:
        members = [(top + "config.json", "json_ok", "file")]
        n_folds = draw(st.sampled_from([0, 0, 1, 3]))
        members += [(top + f"folds/{k}/model.keras", "keras_ok", "file") for k in range(n_folds)] or [
            (top + "model.keras", "keras_ok", "file")
        ]
        for extra in draw(st.lists(st.sampled_from(["history.jsonl", "metrics.json", "split.csv"]), unique=True)):
            members.append((top + extra, draw(st.sampled_from(["json_ok", "garbage", "empty"])), "file"))
        return {
            "raw": None,
            "members": draw(st.permutations(members)),
            "compression": draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])),
            "corrupt": None,
            "where": 0.0,
            "name": draw(st.sampled_from(ZIP_NAMES[:4])),
        }
    members = []
    if not chance(draw, 3):  # the core of a plausible model zip
        members.append((top + "config.json", draw(st.sampled_from(["json_ok"] * 4 + PAYLOAD_KEYS)), "file"))
        members.append(
            (top + "model.keras", draw(st.sampled_from(["keras_ok"] * 3 + ["keras_lambda"] + PAYLOAD_KEYS)), "file")
        )
    for _ in range(draw(st.integers(0, 3))):
        members.append(
            (
                draw(st.one_of(st.sampled_from(MEMBER_NAMES), st.text(max_size=16))),
                draw(st.sampled_from(PAYLOAD_KEYS)),
                draw(st.sampled_from(["file", "file", "file", "dir", "symlink"])),
            )
        )
    return {
        "raw": draw(st.binary(max_size=120)) if chance(draw, 9) else None,
        "members": draw(st.permutations(members)),
        "compression": draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])),
        "corrupt": draw(st.sampled_from([None, None, "flip", "truncate"])),
        "where": draw(st.floats(min_value=0, max_value=1)),
        "name": draw(st.sampled_from(ZIP_NAMES)),
    }


def build_zip(spec: dict) -> bytes:
    """The zip bytes described by :func:`model_zip_spec`."""
    if spec["raw"] is not None:
        return spec["raw"]
    data = payloads()
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", compression=spec["compression"]) as zf:
        warnings.simplefilter("ignore")  # duplicate member names are part of the fuzzing
        for name, key, kind in spec["members"]:
            info = zipfile.ZipInfo(name if kind != "dir" else name.rstrip("/") + "/")
            info.compress_type = spec["compression"]
            if kind == "symlink":
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                zf.writestr(info, "/etc/passwd")
            elif kind == "dir":
                info.external_attr = (stat.S_IFDIR | 0o755) << 16
                zf.writestr(info, b"")
            else:
                zf.writestr(info, data[key])
    raw = bytearray(buf.getvalue())
    pos = int(spec["where"] * (len(raw) - 1)) if raw else 0
    if spec["corrupt"] == "flip" and raw:
        raw[pos] ^= 0xFF
    elif spec["corrupt"] == "truncate":
        raw = raw[:pos]
    return bytes(raw)


# ----------------------------------------------------------------------------- checks (shared with the bench)


def decoded(data: bytes) -> str:
    """The text a parser sees in ``data`` (gunzipped, UTF-8 or else Latin-1), or '' when it cannot tell."""
    try:
        raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    except (OSError, EOFError):
        return ""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def check_not_dna_message(msg: str, text: str) -> None:
    """'<n> characters are not DNA (e.g. <c>)': n >= 1 and c really is in the file."""
    m = re.search(r"(\d+) characters are not DNA \(e\.g\. (.+?)\); use", msg)
    if m:
        assert int(m.group(1)) >= 1, msg
        assert ast.literal_eval(m.group(2)) in text, msg


def check_fasta(data: bytes) -> str:
    """read_fasta and sequences_from_fasta on one FASTA."""
    kind, recs = outcome(lambda: dio.read_fasta(data, name="fuzz.fa"), ["fuzz.fa"])
    text = decoded(data)
    if kind == "error":
        check_not_dna_message(str(recs), text)
    else:
        check_records(recs)
        # every base comes from the file itself (ASCII upper-casing only: 'ſ' must not become 'S')
        flat = re.sub(r"[ \t\r\n]", "", text).encode("utf-8").upper()
        assert all(r.sequence.encode() in flat for r in recs)
        seqs = dio.sequences_from_fasta(data, length=LENGTH, name="fuzz.fa")
        assert len(seqs) == len(recs) and (seqs["sequence"].str.len() == LENGTH).all()
    return kind


def check_labelled_fasta(data: bytes) -> str:
    cfg = DatasetConfig(length=LENGTH, max_n_fraction=0.9)
    kind, res = outcome(lambda: dio.dataset_from_labelled_fasta(data, cfg=cfg, name="fuzz.fa"), ["fuzz.fa"])
    if kind == "valid":
        check_dataset(*res, cfg)
    return kind


def check_table(file: tuple[bytes, str]) -> str:
    """read_table, dataset_from_table, and load_dataset of the same file on disk (nothing written)."""
    data, name = file
    cfg = DatasetConfig(length=LENGTH, max_n_fraction=0.9)
    kind, raw = outcome(lambda: dio.read_table(data, name=name), [name])
    if kind == "valid":
        assert not raw.empty and all(isinstance(c, str) and c == c.strip() for c in raw.columns)
    kind, res = outcome(lambda: dio.dataset_from_table(data, cfg=cfg, name=name), [name])
    if kind == "valid":
        check_dataset(*res, cfg)
    else:
        check_not_dna_message(str(res), decoded(data))
    with workdir() as d:
        path = d / name
        path.write_bytes(data)
        before = snapshot(d)
        kind2, df = outcome(lambda: dio.load_dataset(path), [name])
        assert snapshot(d) == before
        if kind2 == "valid":
            assert df["sequence"].str.len().nunique() == 1
    return kind


def check_labels(case: tuple[tuple[bytes, str], bytes]) -> str:
    (table, tname), fasta = case
    cfg = DatasetConfig(length=LENGTH, max_n_fraction=0.9)
    kind, res = outcome(
        lambda: dio.dataset_from_labels(table, fasta, cfg=cfg, labels_name=tname, fasta_name="fuzz.fa"),
        [tname, "fuzz.fa"],
    )
    if kind == "valid":
        check_dataset(*res, cfg)
    return kind


def check_gene_lists(case: tuple[bytes, bytes, bytes]) -> str:
    pos, neg, fasta = case
    names = ("up.txt", "flat.txt", "fuzz.fa")
    for data, n in zip(case, names, strict=True):
        k, ids = outcome(lambda data=data, n=n: dio.read_gene_list(data, name=n), [n])
        if k == "valid":
            assert ids and all(i and not i.startswith("#") for i in ids)
    cfg = DatasetConfig(length=LENGTH, max_n_fraction=0.9)
    kind, res = outcome(lambda: dio.dataset_from_gene_lists(pos, neg, fasta, cfg=cfg, names=names), list(names))
    if kind == "valid":
        check_dataset(*res, cfg)
    return kind


def check_de(case: tuple[tuple[bytes, str], bytes, dict, tuple[str, str, str]]) -> str:
    (table, name), fasta, th, cols = case
    gene_col, lfc_col, padj_col = cols
    kind, de = outcome(
        lambda: dio.read_de_table(table, gene_col=gene_col, lfc_col=lfc_col, padj_col=padj_col, name=name), [name]
    )
    if kind == "valid":
        assert list(de.columns) == ["gene_id", "log2fc", "padj"]
        assert ((de["padj"] >= 0) & (de["padj"] <= 1)).all()
    kind, thresholds = outcome(lambda: dio.DEThresholds(**th), ["threshold", "direction"])
    if kind == "error":
        return kind
    cfg = DatasetConfig(length=LENGTH, max_n_fraction=0.9)
    kind, res = outcome(
        lambda: dio.dataset_from_de_table(
            table,
            fasta,
            gene_col=gene_col,
            lfc_col=lfc_col,
            padj_col=padj_col,
            thresholds=thresholds,
            cfg=cfg,
            de_name=name,
            fasta_name="fuzz.fa",
        ),
        [name, "fuzz.fa"],
    )
    if kind == "valid":
        check_dataset(*res, cfg)
        assert res[1].excluded_grey_zone >= 0
    return kind


def check_orthologs(case: tuple[bytes, list[bytes]]) -> str:
    table, fastas = case
    kind, pairs = outcome(lambda: dio.read_ortholog_table(table, name="orth.tsv"), ["orth.tsv"])
    if kind == "valid":
        assert len(pairs) and (pairs["gene_id"].str.len() > 0).all() and (pairs["ortholog_id"].str.len() > 0).all()
    with workdir() as d:
        tpath = d / "orth.tsv"
        tpath.write_bytes(table)
        paths = []
        for i, data in enumerate(fastas):
            p = d / f"species{i}.fa"
            p.write_bytes(data)
            paths.append(p)
        before = snapshot(d)
        names = ["orth.tsv", "ortholog", "--ortholog-fasta"] + [p.name for p in paths]
        kind, orth = outcome(lambda: dio.read_orthologs(tpath, paths), names)
        assert snapshot(d) == before
    if kind == "valid":
        assert len(orth.table) and set(orth.table["ortholog_id"]) <= set(orth.sequences)
        assert orth.table["species"].astype(str).str.len().gt(0).all()
    return kind


def check_meme(data: bytes) -> str:
    from deepdife_core.motifs.modisco import read_meme

    kind, db = outcome(lambda: read_meme(data, name="fuzz.meme"), ["fuzz.meme"])
    if kind == "valid":
        assert len(db) >= 1 and len({m.id for m in db.motifs}) == len(db)
        for m in db.motifs:
            assert m.id and m.ppm.ndim == 2 and m.ppm.shape[1] == 4 and len(m.ppm) >= 1
            assert np.isfinite(m.ppm).all() and (m.ppm >= 0).all()
            np.testing.assert_allclose(m.ppm.sum(axis=1), 1.0, atol=1e-6)
    return kind


def check_model_zip(spec: dict) -> str:
    """import_model_zip: a loadable registered model, or a clear error with nothing left behind."""
    from dashboard.model_io import import_model_zip
    from deepdife_core.model.folder import list_models, load_model

    data = build_zip(spec)
    with workdir() as d:
        root = d / "models"
        name = spec["name"]
        kind, path = outcome(
            lambda: import_model_zip(data, name, root, filename="fuzz.zip"), ["fuzz.zip", "model name", "model named"]
        )
        assert [p.name for p in d.iterdir()] in ([], ["models"]), "something was written outside the registry"
        entries = sorted(p.name for p in root.iterdir()) if root.exists() else []
        if kind == "error":
            assert entries == [], f"left behind: {entries}"
            return kind
        assert entries == [name] and path == root / name
        assert list_models(root)["name"].tolist() == [name]
        pred = load_model(path)
        assert pred.config.network_length == pred.models[0].input_shape[1]
    return kind


CLI_MODES = ["table", "labels", "lists", "de", "labelled", "check", "predict"]


@st.composite
def cli_case(draw) -> dict:
    """A command line of the `deepdife` CLI with fuzzed input files and options."""
    mode = draw(st.sampled_from(CLI_MODES))
    messy = draw(MESSY)
    ids = draw(pool())
    files: dict[str, tuple[bytes, str]] = {}
    if mode in ("table", "check"):
        files["table"] = draw(table_file(messy=messy))
    elif mode == "labels":
        files["table"] = draw(table_file(with_sequence=False, ids=ids, messy=messy))
    elif mode == "lists":
        half = len(ids) // 2
        files["up"] = (draw(gene_list(ids[:half] if not messy else ids, messy=messy)), "up.txt")
        files["flat"] = (draw(gene_list(ids[half:] if not messy else ids, messy=messy)), "flat.txt")
    elif mode == "de":
        ids = draw(pool(min_size=3))
        files["table"] = draw(de_file(ids, messy=messy))
    if mode in ("labels", "lists", "de", "predict"):
        files["fasta"] = (draw(pool_fasta(ids, messy=messy)), draw(st.sampled_from(["p.fa", "p.fa.gz", "p.fasta"])))
    if mode == "labelled":
        files["fasta"] = (draw(fasta_bytes(labelled=True, messy=messy)), "l.fa")
    opts = []
    if mode not in ("check", "predict"):
        lengths, max_n = ([LENGTH], [0.9, 1.0]) if not messy else ([LENGTH, 1, 0, -3], [0.9, 0.5, 1.5, float("nan")])
        opts += [f"--length={draw(st.sampled_from(lengths))}", f"--max-n={draw(st.sampled_from(max_n))}"]
        opts += [f"--pad-side={draw(st.sampled_from(['left', 'right']))}"]
    if mode == "de":
        th = draw(BAD_THRESHOLDS if messy else CLEAN_THRESHOLDS)
        th["direction"] = th["direction"] if th["direction"] != "sideways" else "both"  # argparse's choices
        opts += [f"--{k.replace('_', '-')}={v}" for k, v in th.items()]
    model = (
        draw(st.sampled_from(["ok", "lambda", "missing", "empty"] if messy else ["ok"])) if mode == "predict" else None
    )
    return {"mode": mode, "files": files, "opts": opts, "model": model, "manifest": draw(st.booleans())}


@functools.cache
def _cli_models() -> Path:
    """Model folders for `deepdife predict` (a good one and a Lambda one), built once per process."""
    from deepdife_core.config import RunConfig
    from deepdife_core.files import atomic_write_json
    from deepdife_core.model.cnn import build_model
    from deepdife_core.model.folder import save_model_folder

    root = Path(tempfile.mkdtemp(prefix="deepdife-fuzz-models-"))
    save_model_folder(root / "ok", models=[build_model(ZIP_CFG, seed=0)], config=RunConfig(model=ZIP_CFG))
    (root / "lambda").mkdir()
    (root / "lambda" / "model.keras").write_bytes(payloads()["keras_lambda"])
    atomic_write_json(root / "lambda" / "config.json", json.loads(payloads()["json_ok"]))
    (root / "empty").mkdir()
    return root


def check_cli(case: dict) -> str:
    """`deepdife ...` exits 0 with a complete output or 2 with one 'error:' line and no output file."""
    from deepdife_core.cli.main import main

    with workdir() as d:
        paths = {}
        for key, (data, name) in case["files"].items():
            paths[key] = d / f"{key}-{name}"
            paths[key].write_bytes(data)
        out = d / "out" / "data.csv"
        out.parent.mkdir()
        mode = case["mode"]
        argv = {
            "table": ["dataset", "build", "--table", paths.get("table"), "--out", out],
            "labels": ["dataset", "build", "--labels", paths.get("table"), "--fasta", paths.get("fasta"), "--out", out],
            "lists": [
                "dataset",
                "build",
                "--responsive",
                paths.get("up"),
                "--non-responsive",
                paths.get("flat"),
                "--fasta",
                paths.get("fasta"),
                "--out",
                out,
            ],
            "de": ["dataset", "build", "--de", paths.get("table"), "--fasta", paths.get("fasta"), "--out", out],
            "labelled": ["dataset", "build", "--labelled-fasta", paths.get("fasta"), "--out", out],
            "check": ["dataset", "check", paths.get("table")],
            "predict": [
                "predict",
                "--model",
                _cli_models() / str(case["model"]),
                "--fasta",
                paths.get("fasta"),
                "--out",
                out,
            ],
        }[mode]
        argv = (
            [str(a) for a in argv]
            + case["opts"]
            + (["--manifest"] if case["manifest"] and mode in CLI_MODES[:5] else [])
        )
        before = snapshot(d)
        err, std = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
                code = main([*argv, "--quiet"])
        except SystemExit as exc:  # argparse refused the command line: the generator built a wrong one
            raise AssertionError(f"argparse exit {exc.code}: {err.getvalue()[-300:]}") from None
        assert code in (0, 2), (code, err.getvalue())
        written = sorted(set(snapshot(d)) - set(before))
        assert not [w for w in written if Path(w).name.startswith(".")], f"temp files left: {written}"
        if code == 2:
            lines = err.getvalue().strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: ") and len(lines[0]) > 10, err.getvalue()
            assert written == [], f"partial output after an error: {written}"
            return "error"
        if mode == "check":
            assert json.loads(std.getvalue())["n_genes"] >= 1
        elif mode == "predict":
            res = pd.read_csv(out)
            assert res["probability"].between(0, 1).all()
        else:
            # the written dataset reads back to the same table
            df = dio.load_dataset(out)
            assert len(df) >= 1 and df["sequence"].str.len().nunique() == 1
            again = pd.read_csv(out, dtype=str, keep_default_na=False)
            assert df["gene_id"].tolist() == again["gene_id"].tolist()  # no gene lost or renamed
            assert df["sequence"].tolist() == again["sequence"].tolist()
    return "valid"


# ----------------------------------------------------------------------------- the registry of fuzz cases


@st.composite
def labels_case(draw):
    messy = draw(MESSY)
    ids = draw(pool())
    table_ids = [_perturb(draw, g) for g in ids] + (["UNKNOWN1"] if messy else [])
    return draw(table_file(with_sequence=False, ids=table_ids, messy=messy)), draw(pool_fasta(ids, messy=messy))


@st.composite
def lists_case(draw):
    messy = draw(MESSY)
    ids = draw(pool())
    half = len(ids) // 2
    pos, neg = (ids, [*ids, "ATXG00000"]) if messy else (ids[:half], [*ids[half:], "ATXG00000"])
    return draw(gene_list(pos, messy=messy)), draw(gene_list(neg, messy=messy)), draw(pool_fasta(ids, messy=messy))


@st.composite
def de_case(draw):
    messy = draw(MESSY)
    ids = draw(pool(min_size=3))
    cols = ("gene_id", "log2FoldChange", "padj")
    if messy:
        cols = draw(st.sampled_from([cols, cols, ("gene", "lfc", "padj"), ("GENE_ID", "LOG2FOLDCHANGE", "PADJ")]))
    return (
        draw(de_file(ids, messy=messy)),
        draw(pool_fasta(ids, messy=messy)),
        draw(BAD_THRESHOLDS if messy else CLEAN_THRESHOLDS),
        cols,
    )


@st.composite
def orthologs_case(draw):
    messy = draw(MESSY)
    ids = draw(pool())
    others = draw(pool())
    fastas = draw(st.lists(pool_fasta(others, messy=messy), min_size=0 if messy else 1, max_size=2))
    return draw(ortholog_file(ids, others, messy=messy)), fastas


#: name -> (strategy, check); bench/bench_fuzz.py runs the same with >= 1,000 examples each
# ----------------------------------------------------------------------------- compressed bombs, markdown IDs (issue 19)


@st.composite
def gzip_bomb(draw) -> tuple[bytes, int, int]:
    """``(gz bytes, inner size, cap)``: repeated or random content of up to 3 MB inside, a cap of 1-2 MB."""
    head = draw(st.sampled_from([b">G1_1\n", b"gene_id,label\n", b""]))
    unit = draw(st.sampled_from([b"A", b"ACGT", b"\x00", b"G1,1\n", b"\n>"])) or b"A"
    inner = head + unit * (draw(st.integers(0, 3 * 2**20)) // len(unit))
    data = gzip.compress(inner, compresslevel=1)
    if chance(draw, 5):  # gzip inside gzip: unpacked once
        data = gzip.compress(data, compresslevel=1)
    return data, len(inner), draw(st.sampled_from([1, 2]))


def check_gzip_bomb(case: tuple[bytes, int, int]) -> str:
    """Every text reader stops at the decompression cap with a message naming the file and the cap."""
    data, inner, cap_mb = case
    readers = {
        "bomb.fa.gz": lambda: dio.read_fasta(data, name="bomb.fa.gz"),
        "bomb.csv.gz": lambda: dio.read_table(data, name="bomb.csv.gz"),
        "bomb.txt.gz": lambda: dio.read_gene_list(data, name="bomb.txt.gz"),
    }
    kinds = set()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(dio.DECOMPRESSED_ENV, str(cap_mb))
        for name, call in readers.items():
            kind, res = outcome(call, [name])
            if inner > cap_mb * 2**20 and data[:2] == b"\x1f\x8b" and gzip.decompress(data)[:2] != b"\x1f\x8b":
                assert kind == "error" and f"more than {cap_mb} MB" in str(res), (name, res)
            kinds.add(kind)
    return "error" if kinds == {"error"} else "valid"


MD_BITS = ["![e](http://203.0.113.10/e.png)", "**B**", "_i_", "[l](http://x.org)", "<img src=x>", "`c`", "~~s~~"]
MD_BITS += ["$x$", "www.x.org", "a@b.org", ":red[x]", "# h", "1.", "-", "|", "\\", "&lt;", "AT1G01010"]


@st.composite
def markdown_fasta(draw) -> bytes:
    """A labelled FASTA whose IDs and headers carry markdown (one record may be broken on purpose)."""
    ids = draw(
        st.lists(st.lists(st.sampled_from(MD_BITS), min_size=1, max_size=4).map("".join), min_size=1, max_size=6)
    )
    lines = []
    for i, gid in enumerate(ids):
        gid = re.sub(r"\s", "", gid) or "G"
        seq = draw(st.sampled_from(["ACGT", "ACGTX", ""])) if chance(draw, 3) else "ACGTACGT"
        lines.append(f">{gid}#{i}_{i % 2} {draw(st.sampled_from(MD_BITS))}\n{seq}\n")
    return "".join(lines).encode()


def check_markdown_ids(data: bytes) -> str:
    """Whatever the dashboard would show of the file (its IDs, headers, error) renders as plain text."""
    markdown_it = pytest.importorskip("markdown_it")
    from dashboard.widgets import md

    render = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"]).render
    kind, res = outcome(lambda: dio.dataset_from_labelled_fasta(data, name="md.fa"), ["md.fa"])
    shown = [str(res)] if kind == "error" else [*res[0]["gene_id"], res[1].summary()]
    shown += [ln[1:] for ln in data.decode().splitlines() if ln.startswith(">")]
    for text in shown:
        html_out = render(md(text))
        assert set(re.findall(r"<\s*([a-zA-Z0-9]+)", html_out)) <= {"p", "br"}, (text, html_out)
        assert not re.search(r"(?i)https?://|www\.|\w@\w", re.sub(r"<[^>]+>", "", html_out)), (text, html_out)
    return kind


CASES: dict[str, tuple[st.SearchStrategy, Callable[[Any], str]]] = {
    "fasta": (fasta_bytes(), check_fasta),
    "labelled_fasta": (fasta_bytes(labelled=True), check_labelled_fasta),
    "table": (table_file(), check_table),
    "labels_fasta": (labels_case(), check_labels),
    "gene_lists": (lists_case(), check_gene_lists),
    "de_table": (de_case(), check_de),
    "orthologs": (orthologs_case(), check_orthologs),
    "meme": (meme_bytes(), check_meme),
    "model_zip": (model_zip_spec(), check_model_zip),
    "cli": (cli_case(), check_cli),
    "gzip_bomb": (gzip_bomb(), check_gzip_bomb),
    "markdown_ids": (markdown_fasta(), check_markdown_ids),
}


# ----------------------------------------------------------------------------- the tests (make test)


@FUZZ
@given(fasta_bytes())
@example(b">G1\r\nacgtRYN\r\n>G2 desc\r\nAC\r\nGT\r\n")  # Windows endings, lower case, IUPAC
@example(b">G1\nAC>GT\n")  # '>' inside a sequence
@example(b">G1\n\n>G2\nACGT\n")  # empty record
@example(b"\x89PNG\r\n\x1a\n\x00\x00binary")  # binary garbage
@example(gzip.compress(b">G1\nACGT\n" * 1)[:-6])  # truncated gzip
@example(b">G1\n" + b"ACGT" * 50_000 + b"\n")  # one huge line
@example(">G1\nAC\u017fGT\n".encode())  # 'ſ' upper-cases to 'S': must not become DNA
@example(">G1\nACGT\u0416\n".encode())  # a non-Latin-1 letter is counted and shown
def test_fuzz_fasta(data):
    check_fasta(data)


@FUZZ
@given(fasta_bytes(labelled=True))
@example(b">A_1\nACGTACGTAC\n>B_0\nACGTACGTAC\n>C_2\nACGT\n")
def test_fuzz_labelled_fasta(data):
    check_labelled_fasta(data)


@FUZZ
@given(table_file())
@example((b"gene_id,label,label ,sequence\nG1,1,0,ACGT\nG2,0,1,ACGT\n", "dup.csv"))  # duplicated column
@example((b"gene_id,Label,label,sequence\nG1,1,0,ACGT\nG2,0,1,ACGT\n", "dup.csv"))  # same column, other case
@example((b"gene_id;label;sequence\nNA;1;ACGT\nG2;0;ACGT\n", "na.csv"))  # a gene called NA
@example(("\ufeffgene_id\tlabel\tsequence\nG1\t1\tacgt\nG2\t0\tACGN\n".encode(), "bom.tsv"))
@example((b"gene_id,label,sequence\nG1,yes,ACGT\n", "text_label.csv"))
@example((b"gene_id label sequence\nG1 1 ACGT\nG2 0 ACGT extra\n", "ws.txt"))  # wrong delimiter, ragged
@example((b"gene_id,label,sequence\nG1,1,ACGT\n\x00\x00" + b"x" * 5000 + b"\x00\n", "late_nul.csv"))
@example((b"gene_id,label,sequence\nG1,1,ACGT\nG2,0," + "ACGT\u017f".encode() + b"\n", "longs.csv"))
def test_fuzz_table(file):
    check_table(file)


def test_regression_genes_called_na_or_none_are_genes():
    """Found by fuzzing: pandas read 'NA', 'None', 'null' cells as missing, so such genes became 'empty gene ID'."""
    table = b"gene_id,label,family,sequence\nNA,1,null,ACGTACGTACGTACGTACGTACGT\nNone,0,,ACGTACGTACGTACGTACGTACGA\n"
    df, _ = dio.dataset_from_table(table, cfg=DatasetConfig(length=LENGTH), name="t.csv")
    assert df["gene_id"].tolist() == ["NA", "None"] and df["family"].tolist() == ["null", "None"]
    de = dio.read_de_table(
        b"gene_id,log2FoldChange,padj\nG1,NA,NA\nG2,1.5,0.01\n",
        gene_col="gene_id",
        lfc_col="log2FoldChange",
        padj_col="padj",
        name="de.csv",
    )
    assert de["padj"].tolist() == [1.0, 0.01] and np.isnan(de["log2fc"].iloc[0])  # NA numbers still mean missing


@FUZZ
@given(labels_case())
def test_fuzz_labels_plus_fasta(case):
    check_labels(case)


@FUZZ
@given(lists_case())
@example((b"gene_id\n AT1G01010.1 \nat1g01020\n", b"AT1G01030\n# c\nAT1G01040\tx\n", b">AT1G01010\nACGT\n"))
def test_fuzz_gene_lists(case):
    check_gene_lists(case)


@FUZZ
@given(de_case())
@example(  # every gene in the grey zone
    (
        (b"gene_id\tlog2FoldChange\tpadj\nAT1G01010\t0.7\t0.2\nAT1G01020\t-0.8\t0.3\n", "de.tsv"),
        b">AT1G01010\nACGT\n>AT1G01020\nACGT\n",
        {"lfc_min": 1.0, "padj_max": 0.05, "lfc_neg_max": 0.5, "padj_neg_min": 0.5, "direction": "both"},
        ("gene_id", "log2FoldChange", "padj"),
    )
)
@example(  # text in a number column
    (
        (b"gene_id,log2FoldChange,padj\nAT1G01010,high,0.01\n", "de.csv"),
        b">AT1G01010\nACGT\n",
        {"lfc_min": 1.0, "padj_max": 0.05, "lfc_neg_max": 0.5, "padj_neg_min": 0.5, "direction": "both"},
        ("gene_id", "log2FoldChange", "padj"),
    )
)
def test_fuzz_de_table(case):
    check_de(case)


@FUZZ
@given(orthologs_case())
def test_fuzz_orthologs(case):
    check_orthologs(case)


@FUZZ
@given(meme_bytes())
@example(b"MEME version 4\nALPHABET= ACDEFGHIKLMNPQRSTVWY\nMOTIF P1\n")  # protein alphabet
@example(b"MEME version 4\n\nMOTIF M1\nletter-probability matrix: alength= 4 w= 3\n0.25 0.25 0.25 0.25\n")  # cut
@example(b"MEME version 4\nMOTIF M1\nletter-probability matrix: alength= 4 w= 1 nsites= 1e999\n0.25 0.25 0.25 0.25\n")
def test_fuzz_meme(data):
    check_meme(data)


@FUZZ
@given(model_zip_spec())
@example(  # a member named '.' has no path parts (found by the bench: IndexError)
    {
        "raw": None,
        "members": [("model.keras", "keras_ok", "file"), ("config.json", "json_ok", "file"), (".", "garbage", "file")],
        "compression": zipfile.ZIP_STORED,
        "corrupt": None,
        "where": 0.0,
        "name": "m",
    }
)
@example(  # an empty member name (zipfile's own is_dir() fails on it)
    {
        "raw": None,
        "members": [("", "keras_ok", "file")],
        "compression": zipfile.ZIP_STORED,
        "corrupt": None,
        "where": 0.0,
        "name": "m",
    }
)
def test_fuzz_model_zip(spec):
    check_model_zip(spec)


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([("config.json", "json_ok", "file"), ("model.keras", "keras_lambda", "file")], "does not load"),
        ([("config.json", "json_ok", "file"), ("model.keras", "keras_module_os", "file")], "does not load"),
        ([("config.json", "json_bad_types", "file"), ("model.keras", "keras_ok", "file")], "does not load"),
        ([("config.json", "json_other_length", "file"), ("model.keras", "keras_ok", "file")], "does not load"),
        (
            [("config.json", "json_ok", "file"), ("model.keras", "keras_ok", "file"), ("../x", "garbage", "file")],
            "unsafe",
        ),
        (
            [
                ("config.json", "json_ok", "file"),
                ("model.keras", "keras_ok", "file"),
                ("model.keras/x", "garbage", "file"),
            ],
            "fuzz.zip",
        ),
    ],
)
def test_model_zip_regressions(members, message):
    """Named cases: Lambda layer, injected module, bad config types, config/model mismatch, zip-slip, file-as-folder."""
    spec = {"raw": None, "members": members, "compression": zipfile.ZIP_DEFLATED, "corrupt": None, "where": 0.0}
    with workdir() as d, pytest.raises(DeepDifEInputError, match=message):
        from dashboard.model_io import import_model_zip

        import_model_zip(build_zip(spec), "m", d / "models", filename="fuzz.zip")


def test_model_zip_corrupt_member_is_a_clear_error():
    """A zip whose member data is damaged (bad CRC) ends in a clear error and leaves nothing behind."""
    spec = {
        "raw": None,
        "members": [("config.json", "json_ok", "file"), ("model.keras", "keras_ok", "file")],
        "compression": zipfile.ZIP_STORED,
        "corrupt": None,
        "where": 0.0,
        "name": "m",
    }
    raw = bytearray(build_zip(spec))
    start = raw.find(b"model.keras") + len("model.keras") + 200  # inside the stored member's data
    raw[start] ^= 0xFF
    assert check_model_zip({**spec, "raw": bytes(raw)}) == "error"


@settings(FUZZ, max_examples=40)
@given(cli_case())
@example(  # a gene with 67% N kept by --max-n 0.9 must survive reading the table back (it was dropped)
    {
        "mode": "table",
        "files": {
            "table": (
                b"gene_id,label,sequence\nG1,1,NNNNNNNNNNNNNNNNACGTACGT\nG2,0,ACGTACGTACGTACGTACGTACGT\n",
                "t.csv",
            )
        },
        "opts": [f"--length={LENGTH}", "--max-n=0.9", "--pad-side=left"],
        "model": None,
        "manifest": True,
    }
)
@example(  # a gene called NA is a gene, not a missing value
    {
        "mode": "labels",
        "files": {
            "table": (b"gene_id,label\nNA,1\nAT1G01020,0\n", "t.csv"),
            "fasta": (b">NA\nACGTACGTACGTACGTACGTACGT\n>AT1G01020\nACGTACGTACGTACGTACGTACGA\n", "p.fa"),
        },
        "opts": [f"--length={LENGTH}", "--max-n=0.5", "--pad-side=left"],
        "model": None,
        "manifest": False,
    }
)
def test_fuzz_cli(case):
    check_cli(case)


@settings(FUZZ, max_examples=25)
@given(gzip_bomb())
@example((gzip.compress(b">G1_1\n" + b"A" * (3 * 2**20)), 3 * 2**20 + 6, 1))
def test_fuzz_gzip_bomb(case):
    check_gzip_bomb(case)


@FUZZ
@given(markdown_fasta())
@example(b">![e](http://203.0.113.10/e.png)**BOLD**_1\nACGTX\n")
def test_fuzz_markdown_ids(data):
    check_markdown_ids(data)


def test_every_case_has_a_test():
    """The bench and the tests fuzz the same parsers."""
    here = Path(__file__).read_text()
    for name, (_, check) in CASES.items():
        assert f"    {check.__name__}(" in here, name


def test_clear_message_checker_catches_bad_messages():
    """The oracle itself can fail: a multi-line, unnamed or empty message is refused."""
    for bad in ("", "boom\nline 2", "something failed"):
        with pytest.raises(AssertionError):
            assert_clear(DeepDifEInputError(bad), ["fuzz.fa"])
    assert_clear(DeepDifEInputError("fuzz.fa, line 3: bad"), ["fuzz.fa"])


def teardown_module(module) -> None:
    if _cli_models.cache_info().currsize:
        shutil.rmtree(_cli_models(), ignore_errors=True)
        _cli_models.cache_clear()
