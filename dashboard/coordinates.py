"""The Saliency page's coordinate systems: one place that converts promoter positions for every control and table.

Inside the page every position is a **promoter position**: the 0-based index into
the model's input sequence, ranges ``[start, end)`` with the end excluded (the
data contract of the attributions, motif hits and ``hl=START-END`` links). What
the user sees and types is in the session's coordinate choice
(``state.SALIENCY_COORDS``, kept in the URL as ``coords``):

``promoter``
    the promoter position itself; ranges ``start``–``end``, end excluded.
``tss``
    distance to the TSS in bp: the base just upstream of the TSS is ``-1``; ranges
    as for promoter positions (end excluded), shifted.
``genomic``
    the 1-based genome coordinate of the base, when the record carries
    ``Chr:start-end(strand)`` coordinates; ranges are the first and last base
    (both included) from low to high, as a genome browser shows them. A
    minus-strand promoter is the reverse complement of the genome, so its
    positions run down the chromosome. Positions in N padding get the
    coordinates the record would have there and the label ``pad``.

:class:`CoordinateSystem` converts positions, ranges, bounds, labels and the
motif-hit table; Streamlit-free and pure, so it is tested with exact values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: ``Chr1:1000-1600(+)``: 0-based start, exclusive end (bedtools getfasta ``-name -s`` headers)
_COORDS = re.compile(r"^\s*(?P<chrom>[^:\s]+):(?P<start>\d+)-(?P<end>\d+)\((?P<strand>[+\-.])\)\s*$")
#: the systems, in the order the page offers them, with their names on the page
MODES: dict[str, str] = {"promoter": "Promoter position", "tss": "Distance to the TSS", "genomic": "Genomic"}


@dataclass(frozen=True)
class Coords:
    """A parsed ``Chr:start-end(strand)`` location (0-based start, exclusive end)."""

    chrom: str
    start: int
    end: int
    strand: str

    @property
    def length(self) -> int:
        """Bases of the record."""
        return self.end - self.start


def parse_coords(text: object) -> Coords | None:
    """``Coords`` of ``"Chr3:16938040-16938660(-)"``, or ``None`` when absent or malformed."""
    if not isinstance(text, str):
        return None
    m = _COORDS.match(text)
    if m is None or int(m["end"]) <= int(m["start"]):
        return None
    return Coords(m["chrom"], int(m["start"]), int(m["end"]), m["strand"])


def _record_offset(coords: Coords, length: int, pad_side: str) -> int:
    """Record index minus promoter position (the record is fitted to ``length`` on ``pad_side``)."""
    return coords.length - length if pad_side == "left" else 0


def genomic_positions(coords: Coords, length: int, *, pad_side: str = "left") -> np.ndarray:
    """1-based genomic coordinate of every promoter position ``(length,)``; ``-1`` on padding.

    The record covers ``coords.length`` bp read 5'->3' on ``coords.strand`` (the
    reverse complement of the genome for ``-``); the model's input is that record
    fitted to ``length`` (trimmed or N-padded on ``pad_side``, see
    :func:`deepdife_core.data.encode.pad_or_trim`).
    """
    r = np.arange(length) + _record_offset(coords, length, pad_side)  # index into the record
    inside = (r >= 0) & (r < coords.length)
    g = coords.end - r if coords.strand == "-" else coords.start + 1 + r
    return np.where(inside, g, -1).astype(np.int64)


@dataclass(frozen=True)
class CoordinateSystem:
    """One coordinate choice for a promoter of ``length`` bp (see the module docstring).

    Build it with :meth:`make`, which falls back to promoter positions when
    genomic coordinates are asked for a record without them.
    """

    mode: str
    length: int
    pad_side: str = "left"
    coords: Coords | None = None

    @classmethod
    def make(
        cls, mode: str | None, length: int, *, coords: Coords | None = None, pad_side: str = "left"
    ) -> CoordinateSystem:
        """The system ``mode`` (``promoter`` when unknown, or ``genomic`` without ``coords``)."""
        if mode not in MODES or (mode == "genomic" and coords is None):
            mode = "promoter"
        return cls(mode, int(length), pad_side, coords)

    # ---- identity and words

    @property
    def key(self) -> str:
        """Part of a widget key: a widget holding a value in this system is a new widget in another."""
        if self.mode == "genomic" and self.coords is not None:
            c = self.coords
            return f"genomic.{c.chrom}.{c.start}.{c.end}.{c.strand}.{self.pad_side}.{self.length}"
        return self.mode if self.mode == "promoter" else f"{self.mode}.{self.tss}"

    @property
    def minus(self) -> bool:
        """Genomic coordinates that run down the chromosome (a minus-strand record)."""
        return self.mode == "genomic" and self.coords is not None and self.coords.strand == "-"

    @property
    def inclusive(self) -> bool:
        """Whether a range's end in this system is its last base (genomic) or one past it."""
        return self.mode == "genomic"

    @property
    def unit(self) -> str:
        """What a number in this system is, for control labels."""
        if self.mode == "tss":
            return "bp from the TSS"
        if self.mode == "genomic" and self.coords is not None:
            return f"{self.coords.chrom}, 1-based"
        return "promoter position, 0-based"

    @property
    def title(self) -> str:
        """The plot's axis title."""
        if self.mode == "tss":
            return "distance to the TSS (bp)"
        if self.mode == "genomic" and self.coords is not None:
            arrow = "← 5' (minus strand)" if self.minus else "(plus strand)"
            return f"{self.coords.chrom} position {arrow}"
        return "position in the promoter (bp, 0-based)"

    @property
    def tss(self) -> int:
        """Promoter position of the TSS: the base just downstream of the record's 3' end.

        ``length`` for left padding (the 3' end is kept at position ``length - 1``); for
        right padding the record starts at position 0, so the TSS follows its last base.
        """
        if self.pad_side == "left" or self.coords is None:
            return self.length
        return self.coords.length

    # ---- positions

    def _shown(self, pos):
        """The values shown for promoter positions ``pos`` (an int or an int64 array, returned alike)."""
        if self.mode == "tss":
            return pos - self.tss
        if self.mode == "genomic" and self.coords is not None:
            r = pos + _record_offset(self.coords, self.length, self.pad_side)
            return self.coords.end - r if self.minus else self.coords.start + 1 + r
        return pos

    def to_user(self, pos: int) -> int:
        """The value shown for promoter position ``pos``."""
        return int(self._shown(int(pos)))

    def from_user(self, value: int) -> int:
        """The promoter position shown as ``value`` (the inverse of :meth:`to_user`)."""
        value = int(value)
        if self.mode == "tss":
            return value + self.tss
        if self.mode == "genomic" and self.coords is not None:
            r = self.coords.end - value if self.minus else value - self.coords.start - 1
            return r - _record_offset(self.coords, self.length, self.pad_side)
        return value

    def values(self) -> np.ndarray:
        """The value of every promoter position ``(length,)`` (int64; padding gets the record's would-be values)."""
        return self._shown(np.arange(self.length, dtype=np.int64))

    def position_bounds(self) -> tuple[int, int]:
        """Smallest and largest value of a position (low to high)."""
        a, b = self.to_user(0), self.to_user(self.length - 1)
        return min(a, b), max(a, b)

    def inside(self, pos: int) -> bool:
        """Whether promoter position ``pos`` holds a base of the record (not N padding)."""
        if self.coords is None:
            return 0 <= pos < self.length
        r = pos + _record_offset(self.coords, self.length, self.pad_side)
        return 0 <= r < self.coords.length

    def label(self, pos: int) -> str:
        """The axis / hover label of promoter position ``pos``."""
        if self.mode == "genomic":
            return f"{self.to_user(pos):,}" if self.inside(pos) else "pad"
        return str(self.to_user(pos))

    def labels(self) -> tuple[str, ...] | None:
        """Labels of every position (``None`` for promoter positions: the axis numbers are the positions)."""
        if self.mode == "promoter":
            return None
        return tuple(self.label(p) for p in range(self.length))

    # ---- ranges

    def range_to_user(self, start: int, end: int) -> tuple[int, int]:
        """Promoter range ``[start, end)`` as the two values shown (low to high)."""
        if self.inclusive:
            a, b = self.to_user(start), self.to_user(end - 1)
            return min(a, b), max(a, b)
        return self.to_user(start), self.to_user(end)

    def range_from_user(self, low: int, high: int) -> tuple[int, int]:
        """The promoter range ``[start, end)`` shown as ``(low, high)`` (the inverse of :meth:`range_to_user`)."""
        if self.inclusive:
            a, b = self.from_user(low), self.from_user(high)
            return min(a, b), max(a, b) + 1
        return self.from_user(low), self.from_user(high)

    def range_bounds(self) -> tuple[int, int]:
        """The limits of a range control (the whole promoter)."""
        return self.range_to_user(0, self.length)

    def span(self, start: int, end: int) -> str:
        """Promoter range ``[start, end)`` written short in this system: ``60-70``, ``-40--30``, ``1,061-1,070``."""
        a, b = self.range_to_user(start, end)
        return f"{a:,}-{b:,}" if self.mode == "genomic" else f"{a}-{b}"

    def file_part(self, start: int, end: int) -> str:
        """Promoter range ``[start, end)`` for a file name, filesystem-safe.

        ``20-60`` (promoter positions), ``tss-80_-40`` (distance to the TSS), ``Chr3_8959790-8959829``
        (genomic, both ends included): the values of :meth:`range_to_user`.
        """
        a, b = self.range_to_user(start, end)
        if self.mode == "tss":
            text = f"tss{a}_{b}"
        elif self.mode == "genomic" and self.coords is not None:
            text = f"{self.coords.chrom}_{a}-{b}"
        else:
            text = f"{a}-{b}"
        return re.sub(r"[^A-Za-z0-9._-]", "_", text)

    @property
    def convention(self) -> str:
        """How a range of this system is read."""
        if self.mode == "genomic":
            return "1-based, both ends included"
        if self.mode == "tss":
            return "bp from the TSS, end excluded"
        return "0-based, end excluded"

    def range_text(self, start: int, end: int) -> str:
        """Words for promoter range ``[start, end)`` in this system (without its :attr:`convention`)."""
        if self.mode == "tss":
            a, b = self.range_to_user(start, end)
            return f"{a} to {b} bp from the TSS"
        if self.mode == "genomic" and self.coords is not None:
            return f"{self.coords.chrom}:{self.span(start, end)} ({'minus' if self.minus else 'plus'} strand)"
        return f"positions {self.span(start, end)}"

    # ---- tables

    def hits_table(self, hits: pd.DataFrame) -> pd.DataFrame:
        """The motif-hit table with its positions (``start``, ``end``, ``strand``) in this system.

        ``tss``: ``start_to_tss``, ``end_to_tss`` (end excluded); ``genomic``: ``chrom``,
        ``genomic_start``, ``genomic_end`` (1-based, both included, low to high) and
        ``genomic_strand`` (a hit on a minus-strand promoter's ``+`` strand lies on the genome's ``-``).
        """
        out = hits.copy()
        if self.mode == "promoter" or "start" not in out.columns:
            return out
        ranges = [self.range_to_user(int(s), int(e)) for s, e in zip(out["start"], out["end"], strict=True)]
        low = [a for a, _ in ranges]
        high = [b for _, b in ranges]
        at = out.columns.get_loc("start")
        out = out.drop(columns=["start", "end"])
        if self.mode == "tss":
            out.insert(at, "start_to_tss", pd.Series(low, index=out.index, dtype="int64"))
            out.insert(at + 1, "end_to_tss", pd.Series(high, index=out.index, dtype="int64"))
            return out
        assert self.coords is not None
        out.insert(at, "chrom", self.coords.chrom)
        out.insert(at + 1, "genomic_start", pd.Series(low, index=out.index, dtype="int64"))
        out.insert(at + 2, "genomic_end", pd.Series(high, index=out.index, dtype="int64"))
        if "strand" in out.columns:
            flip = {"+": "-", "-": "+"}
            strands = out.pop("strand")
            out.insert(at + 3, "genomic_strand", strands.map(flip) if self.minus else strands)
        return out
