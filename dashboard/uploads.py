"""Uploaded files judged by their content, not by their file-name ending.

The uploaders take any file name (DeepDifE's own ``example.fasta_c1`` included);
:func:`kind_of` looks at the first bytes, :func:`table_upload` makes a workbook
readable whatever its name, and :func:`check_text` refuses, with a visible
message naming the file, a workbook, archive or binary file given where text
(a FASTA, a gene list, a CSV/TSV table) is expected.
"""

from __future__ import annotations

import gzip
import zlib

from deepdife_core.errors import DeepDifEInputError

#: what :func:`kind_of` can answer, in words for the messages
KIND_WORDS = {
    "fasta": "a FASTA file",
    "text": "a text file",
    "xlsx": "an Excel workbook",
    "zip": "a zip archive",
    "binary": "a binary (non-text) file",
    "empty": "an empty file",
}


def _head(data: bytes, n: int = 4096) -> bytes:
    """The first ``n`` bytes, unpacked when ``data`` is gzip (only the start is unpacked)."""
    if data[:2] == b"\x1f\x8b":
        try:
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[: 64 * 1024], n)
        except (zlib.error, gzip.BadGzipFile):
            return b""
    return data[:n]


def kind_of(data: bytes) -> str:
    """``fasta``, ``text``, ``xlsx``, ``zip``, ``binary`` or ``empty``, from the content (gzip is looked into)."""
    if not data:
        return "empty"
    if data[:4] == b"PK\x03\x04":
        return "xlsx" if b"xl/" in data[:65536] or b"[Content_Types].xml" in data[:65536] else "zip"
    head = _head(data)
    if not head.strip():
        return "empty" if data[:2] != b"\x1f\x8b" else "binary"
    if b"\x00" in head:
        return "binary"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # a cut in the middle of a multi-byte character is still text
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return "binary"
    return "fasta" if text.lstrip().startswith(">") else "text"


def check_text(data: bytes, name: str, what: str) -> None:
    """Refuse a workbook, archive, binary or empty file given where ``what`` (text) is expected.

    Raises
    ------
    DeepDifEInputError
        Naming the file, what it is and what was expected.
    """
    kind = kind_of(data)
    if kind in ("fasta", "text"):
        return
    hint = " (save the sheet as CSV or upload it as a table)" if kind == "xlsx" else ""
    raise DeepDifEInputError(f"{name}: this is {KIND_WORDS[kind]}, not {what}{hint}")


def table_upload(data: bytes, name: str) -> tuple[bytes, str]:
    """``(data, name)`` for :func:`deepdife_core.data.io.read_table`: a workbook is read as one whatever its name.

    Raises
    ------
    DeepDifEInputError
        A zip that is not a workbook, a binary or an empty file.
    """
    kind = kind_of(data)
    if kind == "xlsx":
        return data, name if name.lower().endswith(".xlsx") else f"{name}.xlsx"
    if kind in ("text", "fasta"):
        if name.lower().endswith((".xlsx", ".xls")):
            return data, f"{name}.txt"  # text named like a workbook: read as text
        return data, name
    raise DeepDifEInputError(f"{name}: this is {KIND_WORDS[kind]}, not a table (CSV, TSV or XLSX)")
