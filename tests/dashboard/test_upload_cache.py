"""Issue 19 point 9 (dashboard): parsed uploads do not pile up in the server's memory."""

from __future__ import annotations

import pytest
import streamlit as st

import deepdife_core.data.io as dio
from dashboard import cache


@pytest.fixture
def parses(monkeypatch):
    calls: list[int] = []
    real = dio.read_table

    def counting(data, *, name=None):
        calls.append(len(data))
        return real(data, name=name)

    monkeypatch.setattr(dio, "read_table", counting)
    st.cache_data.clear()
    yield calls
    st.cache_data.clear()


def _csv(i: int, pad: int = 0) -> bytes:
    return ("gene_id,label\n" + f"G{i},1\n" + "".join(f"P{i}_{k},0\n" for k in range(pad))).encode()


def test_a_small_upload_is_parsed_once_while_it_is_in_use(parses):
    a = cache.raw_table(_csv(1), "a.csv")
    b = cache.raw_table(_csv(1), "a.csv")
    assert parses == [len(_csv(1))] and a.equals(b)


def test_only_the_latest_uploads_are_kept(parses):
    for i in (1, 2, 3):
        cache.raw_table(_csv(i), "t.csv")
    cache.raw_table(_csv(1), "t.csv")  # pushed out by 2 and 3: parsed again
    assert len(parses) == 4
    assert cache.UPLOAD_CACHE_ENTRIES == 2


def test_a_large_upload_is_never_kept(parses):
    big = _csv(7, pad=1_500_000)
    assert len(big) > cache.UPLOAD_CACHE_MAX_BYTES
    first = cache.raw_table(big, "big.csv")
    cache.raw_table(big, "big.csv")
    assert len(parses) == 2 and len(first) == 1_500_001
