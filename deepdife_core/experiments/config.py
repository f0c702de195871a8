"""The options of every in-silico experiment, in one frozen dataclass (the CLI and the page read its defaults)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from deepdife_core.errors import DeepDifEInputError

#: where background promoters come from
BACKGROUNDS = ("non-responsive", "responsive", "all", "shuffled")
#: the classes a ``shuffled`` background is drawn from
SHUFFLE_CLASSES = ("non-responsive", "responsive", "all")
ORIENTATIONS = ("+", "-", "both")
#: how a matrix becomes the inserted bases: its most likely base per position, or one draw per background
INSTANCES = ("consensus", "sample")
#: what replaces a tiled window: a dinucleotide shuffle of it, N (all-zero rows), or nothing (deleted)
TILE_MODES = ("shuffle", "n", "delete")
#: what replaces a motif site in genome-wide ablation
ABLATE_MODES = ("shuffle", "n")
#: the orientation pairs of the spacing experiment (first motif, second motif)
ORIENTATION_PAIRS = ("++", "+-", "-+", "--")
EXPERIMENTS = ("insert", "sweep", "spacing", "dose", "tile", "ablate")


@dataclass(frozen=True)
class ExperimentConfig:
    """Options of the in-silico experiments (each verb reads the fields it needs).

    Attributes
    ----------
    background
        ``non-responsive`` / ``responsive`` / ``all`` promoters of the dataset, or ``shuffled``:
        dinucleotide shuffles of promoters of class ``shuffle_of``.
    shuffle_of
        The class shuffled for ``background="shuffled"``.
    n_backgrounds
        Background promoters drawn (without replacement, seeded; all of them if the class is smaller).
    seed
        Seed of every random choice (backgrounds, sampled motif instances, shuffles).
    orientation
        ``+`` (the motif as given on the promoter's strand), ``-`` (its reverse complement) or
        ``both`` (the mean effect of the two: orientation marginalised).
    instance
        ``consensus`` (the most likely base at each position; ties go to A < C < G < T) or
        ``sample`` (every background gets its own draw from the matrix).
    position
        0-based promoter position of the (first) motif's first base; None = the middle
        (insert, dose: the block of copies centred; spacing: the pair centred at the widest spacing).
    step
        bp between tested positions (sweep) or window starts (tile).
    max_spacing
        Largest gap in bp between the first motif's end and the second's start (spacing: 0 .. max_spacing).
    max_copies
        Dose: 0 .. max_copies copies.
    copy_gap
        Dose: bp between consecutive copies.
    window
        Tile: window width in bp.
    mode
        Tile: one of :data:`TILE_MODES`; ablate: one of :data:`ABLATE_MODES`.
    n_shuffles
        Shuffles averaged per window (tile) or per gene (ablate) in ``shuffle`` mode.
    max_pvalue
        Ablate: a matrix motif's sites are windows with a FIMO p-value at most this (an IUPAC
        consensus matches exactly).
    threshold
        Ablate: a gene is called responsive when its probability is at least this.
    batch_size
        Sequences per model call.
    chunk
        Sequences built and scored between two progress reports / stop checks.
    """

    background: str = "non-responsive"
    shuffle_of: str = "non-responsive"
    n_backgrounds: int = 200
    seed: int = 0
    orientation: str = "both"
    instance: str = "consensus"
    position: int | None = None
    step: int = 10
    max_spacing: int = 100
    max_copies: int = 3
    copy_gap: int = 20
    window: int = 50
    mode: str = "shuffle"
    n_shuffles: int = 5
    max_pvalue: float = 1e-4
    threshold: float = 0.5
    batch_size: int = 1024
    chunk: int = 8192

    def __post_init__(self) -> None:
        def choice(name: str, options: tuple[str, ...]) -> None:
            if getattr(self, name) not in options:
                raise DeepDifEInputError(f"{name} must be one of {', '.join(options)}, got {getattr(self, name)!r}")

        choice("background", BACKGROUNDS)
        choice("shuffle_of", SHUFFLE_CLASSES)
        choice("orientation", ORIENTATIONS)
        choice("instance", INSTANCES)
        choice("mode", TILE_MODES)
        for name, low in (
            ("n_backgrounds", 1),
            ("step", 1),
            ("max_copies", 1),
            ("window", 1),
            ("n_shuffles", 1),
            ("batch_size", 1),
            ("chunk", 1),
        ):
            if int(getattr(self, name)) < low:
                raise DeepDifEInputError(f"{name} must be >= {low}, got {getattr(self, name)}")
        for name in ("max_spacing", "copy_gap"):
            if int(getattr(self, name)) < 0:
                raise DeepDifEInputError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.position is not None and int(self.position) < 0:
            raise DeepDifEInputError(f"position must be >= 0 (0-based promoter position), got {self.position}")
        if not 0 < self.max_pvalue <= 1:
            raise DeepDifEInputError(f"max_pvalue must be in (0, 1], got {self.max_pvalue}")
        if not 0 < self.threshold < 1:
            raise DeepDifEInputError(f"threshold must be in (0, 1), got {self.threshold}")

    def to_dict(self) -> dict:
        """Return the fields as a JSON-able dict.

        Returns
        -------
        dict
            Field name -> value (:func:`dataclasses.asdict`).
        """
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> ExperimentConfig:
        """Build a config from :meth:`to_dict` output (unknown keys are refused).

        Parameters
        ----------
        data : dict or None
            Field name -> value; missing fields keep their defaults (``None``: all defaults).

        Returns
        -------
        ExperimentConfig
            The validated config.

        Raises
        ------
        DeepDifEInputError
            For unknown keys or invalid values.
        """
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise DeepDifEInputError(f"unknown experiment option(s): {', '.join(unknown)}")
        return cls(**data)
