"""Motif sources: an IUPAC consensus, a JASPAR matrix (bundled plant collection, offline) or a motif run's pattern."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.files import check_name
from deepdife_core.motifs.modisco import DEFAULT_DB_CACHE, MatchConfig, jaspar_plants, read_modisco_h5

#: IUPAC code -> the bases it allows
IUPAC = {
    "A": "A",
    "C": "C",
    "G": "G",
    "T": "T",
    "R": "AG",
    "Y": "CT",
    "S": "CG",
    "W": "AT",
    "K": "GT",
    "M": "AC",
    "B": "CGT",
    "D": "AGT",
    "H": "ACT",
    "V": "ACG",
    "N": "ACGT",
}
_JASPAR_ID = re.compile(r"^MA\d{4}(\.\d+)?$", re.I)
_PATTERN = re.compile(r"^(?P<run>[^:]+):(?P<pattern>(pos|neg)_(patterns\.pattern_)?\d+)$")


@dataclass(frozen=True)
class MotifSource:
    """A motif to insert or ablate.

    Attributes
    ----------
    name
        What tables and figures call it (the consensus, ``MA0123.1 ABI5``, ``run1:pos_0``).
    ppm
        ``(W, 4)`` float64 base probabilities (A, C, G, T), rows summing to 1.
    kind
        ``iupac``, ``jaspar`` or ``pattern``.
    spec
        What the user typed.
    """

    name: str
    ppm: np.ndarray
    kind: str
    spec: str

    @property
    def width(self) -> int:
        """Motif width ``W`` in bp.

        Returns
        -------
        int
            The number of rows of ``ppm``.
        """
        return int(self.ppm.shape[0])

    @property
    def consensus(self) -> str:
        """The most likely base at each position (ties: A < C < G < T).

        Returns
        -------
        str
            ``W`` letters of A, C, G, T.
        """
        return "".join("ACGT"[j] for j in self.ppm.argmax(axis=1))

    @property
    def allowed(self) -> np.ndarray:
        """Bases with a non-zero probability (an IUPAC consensus's exact matches).

        Returns
        -------
        numpy.ndarray
            bool ``(W, 4)``.
        """
        return self.ppm > 0

    def instances(self, n: int, *, mode: str = "consensus", seed: int = 0) -> np.ndarray:
        """One-hot motif instances, float32 ``(n, W, 4)``.

        Parameters
        ----------
        n
            Instances (one per background).
        mode
            ``consensus``: :attr:`consensus` every time; ``sample``: independent draws from
            :attr:`ppm` (an IUPAC code's bases are equally likely), seeded.
        seed
            Seed of the draws.

        Returns
        -------
        numpy.ndarray
        """
        eye = np.eye(4, dtype=np.float32)
        if mode == "consensus":
            return np.repeat(eye[self.ppm.argmax(axis=1)][None], n, axis=0)
        if mode != "sample":
            raise DeepDifEInputError(f"instance must be 'consensus' or 'sample', got {mode!r}")
        rng = np.random.default_rng(seed)
        cum = np.cumsum(self.ppm, axis=1)
        u = rng.random((n, self.width, 1))
        idx = np.minimum((u > cum[None]).sum(axis=2), 3)
        return eye[idx]


def from_iupac(text: str) -> MotifSource:
    """An IUPAC consensus as a motif.

    Parameters
    ----------
    text
        E.g. ``ACGTGKC`` (any case).

    Returns
    -------
    MotifSource
        ``ppm`` ``(W, 4)`` with each code's bases equally likely.
    """
    seq = str(text).strip().upper()
    bad = sorted({c for c in seq if c not in IUPAC})
    if not seq or bad:
        raise DeepDifEInputError(
            f"motif {text!r}: {'empty' if not seq else 'not IUPAC DNA (' + ', '.join(map(repr, bad)) + ')'}; "
            "type a consensus such as ACGTGKC, a JASPAR ID such as MA0930.1, or RUN:pos_0 for a motif run pattern"
        )
    ppm = np.zeros((len(seq), 4))
    for i, c in enumerate(seq):
        for b in IUPAC[c]:
            ppm[i, "ACGT".index(b)] = 1.0 / len(IUPAC[c])
    return MotifSource(seq, ppm, "iupac", str(text))


def from_jaspar(spec: str, *, database=None, release: str | None = None, cache_dir: str | Path | None = None):
    """A JASPAR CORE plants matrix by ID (``MA0930.1``, or ``MA0930`` for the latest version) or TF name.

    Parameters
    ----------
    spec
        Matrix ID or name (case-insensitive; a name must be unique in the collection).
    database
        A :class:`~deepdife_core.motifs.modisco.MotifDatabase`; default: JASPAR CORE plants shipped with
        pyjaspar (offline; exported once to ``cache_dir``).
    release, cache_dir
        Passed to :func:`deepdife_core.motifs.modisco.jaspar_plants`.

    Returns
    -------
    MotifSource
    """
    db = database or jaspar_plants(release, cache_dir=DEFAULT_DB_CACHE if cache_dir is None else cache_dir)
    key = str(spec).strip().upper()
    hits = [m for m in db.motifs if m.id.upper() == key or m.id.upper().split(".")[0] == key]
    if not hits:
        hits = [m for m in db.motifs if (m.name or "").upper() == key]
    if not hits:
        raise DeepDifEInputError(
            f"motif {spec!r}: no JASPAR matrix with that ID or name in {db.name}; "
            "give an ID such as MA0930.1 or a TF name such as ABF1"
        )
    if len({m.id.split(".")[0] for m in hits}) > 1:
        raise DeepDifEInputError(
            f"motif {spec!r}: {len(hits)} JASPAR matrices share that name ({', '.join(m.id for m in hits[:5])}); "
            "give the matrix ID"
        )
    m = sorted(hits, key=lambda m: m.id)[-1]
    ppm = np.asarray(m.ppm, dtype=np.float64)
    ppm = ppm / np.maximum(ppm.sum(axis=1, keepdims=True), 1e-12)
    return MotifSource(m.label, ppm, "jaspar", str(spec))


def from_motif_run(
    spec: str, motifs_root: str | Path, *, trim_threshold: float = MatchConfig.trim_threshold
) -> MotifSource:
    """A discovered pattern ``RUN:pos_0`` of a motif run folder under ``motifs_root`` (its trimmed CWM consensus).

    The inserted bases are the pattern's CWM consensus (:meth:`deepdife_core.motifs.modisco.Pattern.query_ppm`
    with ``source="cwm"``: the trimmed CWM, clipped to its sign, as probabilities).

    Parameters
    ----------
    spec
        ``RUN:pos_0`` / ``RUN:neg_1`` (or the full ``pos_patterns.pattern_0``).
    motifs_root
        The folder of motif runs (``workspace/motifs``).
    trim_threshold
        CWM trimming fraction.

    Returns
    -------
    MotifSource
    """
    m = _PATTERN.match(str(spec).strip())
    if m is None:
        raise DeepDifEInputError(f"motif {spec!r}: a motif run pattern is written RUN:pos_0 (or RUN:neg_1)")
    run = check_name(m.group("run"), "motif run name")
    path = Path(motifs_root) / run / "modisco.h5"
    if not path.is_file():
        raise DeepDifEInputError(f"motif {spec!r}: no motif run {run!r} in {motifs_root} (no modisco.h5)")
    want = m.group("pattern")
    for p in read_modisco_h5(path).patterns:
        if want in (p.short_name, p.name):
            ppm = p.query_ppm(trim_threshold, source="cwm")
            return MotifSource(f"{run}:{p.short_name}", ppm, "pattern", str(spec))
    raise DeepDifEInputError(f"motif {spec!r}: motif run {run!r} has no pattern {want!r}")


def motif_source(
    spec: str,
    *,
    database=None,
    release: str | None = None,
    cache_dir: str | Path | None = None,
    motifs_root: str | Path = Path("workspace") / "motifs",
) -> MotifSource:
    """Read a motif spec into a :class:`MotifSource`.

    A spec is ``RUN:pos_0`` (a motif run pattern), a JASPAR ID (``MA....``), an upper-case
    IUPAC consensus (``ACGTGKC``), ``jaspar:NAME`` or any other text as a JASPAR TF name
    (``ABI5``; text of IUPAC letters that no JASPAR name matches is read as a consensus).

    Parameters
    ----------
    spec : str
        The motif as the user typed it.
    database : optional
        An already loaded JASPAR database (default: loaded for ``release``).
    release : str, optional
        The JASPAR release (default: the pinned one).
    cache_dir : str or pathlib.Path, optional
        Folder of the downloaded JASPAR MEME files.
    motifs_root : str or pathlib.Path
        Folder of the motif runs (``workspace/motifs``).

    Returns
    -------
    MotifSource
        The motif's name, ``(W, 4)`` PPM, kind and spec.

    Raises
    ------
    DeepDifEInputError
        When the spec is none of these or names no motif.
    """
    text = str(spec).strip()
    if text.lower().startswith("jaspar:"):
        return from_jaspar(text[7:], database=database, release=release, cache_dir=cache_dir)
    if _PATTERN.match(text):
        return from_motif_run(text, motifs_root)
    if _JASPAR_ID.match(text):
        return from_jaspar(text, database=database, release=release, cache_dir=cache_dir)
    if text and all(c in IUPAC for c in text.upper()) and text.upper() == text:
        return from_iupac(text)
    if not text or any(c in text for c in "/\\"):
        return from_iupac(text)  # the IUPAC message explains every accepted form
    try:
        return from_jaspar(text, database=database, release=release, cache_dir=cache_dir)
    except DeepDifEInputError as exc:
        if all(c.upper() in IUPAC for c in text):
            return from_iupac(text)
        raise DeepDifEInputError(
            f"motif {text!r}: not an IUPAC consensus (A C G T R Y S W K M B D H V N), and {exc}; "
            "a motif run pattern is written RUN:pos_0"
        ) from exc
