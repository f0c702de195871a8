"""The motif-hit disk cache (:mod:`deepdife_core.motifs.hitcache`): exact hits, keys, corrupt files, atomic writes."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pandas as pd
import pytest

from deepdife_core.data.encode import one_hot
from deepdife_core.errors import DeepDifEInputError
from deepdife_core.motifs import hitcache as H  # noqa: N812
from deepdife_core.motifs.modisco import MotifDatabase
from deepdife_core.motifs.scan import prepare_database, scan_sequence


@pytest.fixture(scope="module")
def db(jaspar):
    return prepare_database(jaspar)


@pytest.fixture(scope="module")
def gene() -> str:
    """The first gene of the demo dataset (600 bp), as the Saliency page scans it."""
    from deepdife_core.data.demo import make_demo_dataset

    return str(make_demo_dataset()["sequence"].iloc[0]).upper()


def _no_scan(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("scanned a cached sequence")

    monkeypatch.setattr(H, "scan_sequence", boom)


@pytest.mark.parametrize("pvalue", [1e-3, 1e-5, 1e-9])
def test_a_hit_equals_a_fresh_scan(db, gene, pvalue, tmp_path, monkeypatch):
    store = H.MotifHitCache(tmp_path)
    fresh = scan_sequence(gene, db, max_pvalue=pvalue)
    first = store.scan(gene, db, max_pvalue=pvalue)
    assert (store.hits, store.misses) == (0, 1)
    assert store.path(gene, db, pvalue).is_file()
    _no_scan(monkeypatch)
    again = H.MotifHitCache(tmp_path).scan(gene, db, max_pvalue=pvalue)  # another process: only the files
    for got in (first, again):
        pd.testing.assert_frame_equal(got, fresh, check_exact=True)
    assert len(fresh) > 0 or pvalue == 1e-9  # a table with rows and an empty one both round-trip


def test_a_string_and_its_one_hot_share_a_key(db, gene, tmp_path):
    assert H.sequence_key(gene) == H.sequence_key(one_hot(gene)) == H.sequence_key(gene.lower())
    assert H.sequence_key(gene) != H.sequence_key(gene[:-1] + ("A" if gene[-1] != "A" else "C"))
    store = H.MotifHitCache(tmp_path)
    store.scan(gene, db, max_pvalue=1e-5)
    pd.testing.assert_frame_equal(
        store.scan(one_hot(gene), db, max_pvalue=1e-5), scan_sequence(gene, db, max_pvalue=1e-5)
    )
    assert store.hits == 1


def test_a_changed_database_or_pvalue_misses(db, jaspar, gene, tmp_path):
    store = H.MotifHitCache(tmp_path)
    store.scan(gene, db, max_pvalue=1e-5)
    fewer = prepare_database(MotifDatabase(jaspar.name, jaspar.motifs[:-1], jaspar.source))
    m = jaspar.motifs[0]
    edited = dataclasses.replace(m, ppm=np.roll(np.asarray(m.ppm), 1, axis=1))
    changed = prepare_database(MotifDatabase(jaspar.name, (edited, *jaspar.motifs[1:]), jaspar.source))
    renamed = prepare_database(MotifDatabase(jaspar.name, (dataclasses.replace(m, name="other"), *jaspar.motifs[1:])))
    other_bins = prepare_database(jaspar, bin_size=0.05)
    same = prepare_database(jaspar)  # another object, the same motifs and settings
    prints = {H.database_fingerprint(d) for d in (db, fewer, changed, renamed, other_bins)}
    assert len(prints) == 5 and H.database_fingerprint(same) == H.database_fingerprint(db)
    assert store.read(gene, same, 1e-5) is not None
    for other in (fewer, changed, renamed, other_bins):
        assert store.read(gene, other, 1e-5) is None
        pd.testing.assert_frame_equal(
            store.scan(gene, other, max_pvalue=1e-5), scan_sequence(gene, other, max_pvalue=1e-5)
        )
    for p in (1e-4, 1.0001e-5):
        assert store.read(gene, db, p) is None
        assert store.path(gene, db, p) != store.path(gene, db, 1e-5)
    assert store.hits == 0 and store.misses == 5


def _write_garbage(path, kind: str, other) -> None:
    data = path.read_bytes()
    if kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "garbage":
        path.write_bytes(os.urandom(300))
    elif kind == "foreign":  # a valid hit file of another sequence under this one's name
        path.write_bytes(other.read_bytes())
    elif kind == "not_npz":
        np.save(path.with_suffix(".tmp.npy"), np.arange(3))
        path.write_bytes(path.with_suffix(".tmp.npy").read_bytes())
    elif kind == "missing_column":
        with np.load(path) as d:
            arrays = {k: d[k] for k in d.files if k != "score"}
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)
    elif kind == "ragged":
        with np.load(path) as d:
            arrays = {k: d[k] for k in d.files}
        arrays["start"] = np.append(arrays["start"], 7)
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)
    elif kind == "directory":
        path.unlink()
        path.mkdir()


@pytest.mark.parametrize(
    "kind", ["truncated", "empty", "garbage", "foreign", "not_npz", "missing_column", "ragged", "directory"]
)
def test_a_corrupt_file_is_ignored_and_rewritten(db, gene, kind, tmp_path):
    store = H.MotifHitCache(tmp_path)
    fresh = scan_sequence(gene, db, max_pvalue=1e-3)
    store.scan(gene, db, max_pvalue=1e-3)
    other_gene = gene[::-1]
    store.scan(other_gene, db, max_pvalue=1e-3)
    path = store.path(gene, db, 1e-3)
    _write_garbage(path, kind, store.path(other_gene, db, 1e-3))
    assert store.read(gene, db, 1e-3) is None
    got = store.scan(gene, db, max_pvalue=1e-3)  # never raises: scanned again
    pd.testing.assert_frame_equal(got, fresh)
    if kind != "directory":  # a folder in the way cannot be replaced by a file: served, not stored
        pd.testing.assert_frame_equal(store.read(gene, db, 1e-3), fresh)  # rewritten whole
    assert store.misses == 3


def test_writes_are_atomic(db, gene, tmp_path, monkeypatch):
    store = H.MotifHitCache(tmp_path)
    store.scan(gene, db, max_pvalue=1e-3)
    path = store.path(gene, db, 1e-3)
    before = path.read_bytes()
    real = os.replace

    def crash(src, dst):
        assert str(src) != str(dst) and str(dst) == str(path)  # written elsewhere, then renamed over the file
        assert os.path.basename(src).startswith(f".{path.name}.")
        raise OSError("crash before the rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises((OSError, DeepDifEInputError)):
        store.write(gene, db, 1e-3, scan_sequence(gene, db, max_pvalue=1e-3).head(1))
    monkeypatch.setattr(os, "replace", real)
    assert path.read_bytes() == before  # the old file is whole, no temp file is left
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    pd.testing.assert_frame_equal(store.read(gene, db, 1e-3), scan_sequence(gene, db, max_pvalue=1e-3))


def test_a_failed_write_still_returns_the_hits(db, gene, tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise DeepDifEInputError("the disk is full")

    monkeypatch.setattr(H, "atomic_write_bytes", full)
    store = H.MotifHitCache(tmp_path)
    pd.testing.assert_frame_equal(store.scan(gene, db, max_pvalue=1e-5), scan_sequence(gene, db, max_pvalue=1e-5))
    assert not store.path(gene, db, 1e-5).exists()


def test_bad_arguments_are_refused(db, gene, tmp_path):
    store = H.MotifHitCache(tmp_path)
    with pytest.raises(DeepDifEInputError):
        store.scan(gene, db, max_pvalue=0)
    with pytest.raises(DeepDifEInputError):
        store.scan(gene, object(), max_pvalue=1e-5)
    with pytest.raises(DeepDifEInputError):
        store.scan("ACGU" * 10, db, max_pvalue=1e-5)


def test_a_pickled_hit_file_is_a_miss_and_never_unpickled(db, gene, tmp_path):
    class Boom:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    store = H.MotifHitCache(tmp_path / "hits")
    store.scan(gene, db, max_pvalue=1e-5)
    path = store.path(gene, db, 1e-5)
    with np.load(path) as d:
        arrays = {k: d[k] for k in d.files}
    arrays["site"] = np.array([Boom()] * len(arrays["site"]), dtype=object)
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    assert store.read(gene, db, 1e-5) is None
    pd.testing.assert_frame_equal(store.scan(gene, db, max_pvalue=1e-5), scan_sequence(gene, db, max_pvalue=1e-5))
    assert not (tmp_path / "pwned").exists()
