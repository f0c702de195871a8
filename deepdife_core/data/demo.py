"""A deterministic, *synthetic* promoter data set for demos and tests.

This is not real biology: it imitates the shape of an ABA-response experiment so
that the dashboard opens with something learnable.

* AT-rich background (A, T 0.32; C, G 0.18), ``length`` bp ending at the TSS.
* Genes come in families (paralogs): members are 8%-mutated copies of a family
  template and share its label, so a random (ungrouped) split would leak.
* Responsive genes (label 1) carry 2-4 ABA-responsive elements in the proximal
  region (``length-250 .. length-30``, either strand): 10-bp G-box-type ABREs
  ``CCACGTGGCA`` / ``GTACGTGTCA`` whose core is the ABRE ``ACGTGKC``.
* Distractors in both classes: W-box ``TTGACY``, MYB ``TAACTG``, DOF ``AAAG`` runs,
  and ~15% of non-responsive genes carry one ABRE at a random position.
* A little label noise (``label_noise``, default 2%).

The ``sites`` column lists the planted ABREs as ``start:end:strand`` (0-based,
end exclusive, forward coordinates), separated by ``;``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ABRE = ("CCACGTGGCA", "GTACGTGTCA")
DISTRACTORS = ("TTGACC", "TTGACT", "TAACTG", "AAAGAAAG", "CCACGTGA")
_BASES = np.array(list("ACGT"))
_BG = np.array([0.32, 0.18, 0.18, 0.32])
_COMP = str.maketrans("ACGT", "TGCA")


def _rc(s: str) -> str:
    return s.translate(_COMP)[::-1]


def _place(seq: np.ndarray, motif: str, pos: int) -> None:
    seq[pos : pos + len(motif)] = list(motif)


class _Planter:
    """Place motifs at free random positions of one sequence, recording ABRE sites."""

    def __init__(self, seq: np.ndarray, occupied: np.ndarray, sites: list[str], rng: np.random.Generator) -> None:
        self.seq, self.occupied, self.sites, self.rng = seq, occupied, sites, rng

    def __call__(self, motif: str, lo: int, hi: int, strand: str, record: bool) -> None:
        for _try in range(20):
            pos = int(self.rng.integers(lo, hi - len(motif)))
            if not self.occupied[max(0, pos - 2) : pos + len(motif) + 2].any():
                _place(self.seq, motif if strand == "+" else _rc(motif), pos)
                self.occupied[pos : pos + len(motif)] = True
                if record:
                    self.sites.append(f"{pos}:{pos + len(motif)}:{strand}")
                return


def make_demo_dataset(
    n_genes: int = 2000,
    *,
    length: int = 600,
    responsive_fraction: float = 0.45,
    label_noise: float = 0.02,
    mutation_rate: float = 0.08,
    seed: int = 7,
) -> pd.DataFrame:
    """Generate the synthetic demo set.

    Genes come in families (a shared template, mutated per gene); responsive families carry
    2-4 ABRE sites in the 250 bp before the last 30 bp, some non-responsive genes one ABRE
    anywhere, and any gene up to two distractor motifs.

    Parameters
    ----------
    n_genes : int, optional
        Number of genes (rows), default 2000.
    length : int, optional
        Sequence length in bp, default 600.
    responsive_fraction : float, optional
        Probability that a family is responsive (label 1), default 0.45.
    label_noise : float, optional
        Probability that a gene's ``label`` is flipped, default 0.02.
    mutation_rate : float, optional
        Per-base probability that a family member differs from the template, default 0.08.
    seed : int, optional
        Seed of the random generator, default 7.

    Returns
    -------
    pandas.DataFrame
        Dataset table ``gene_id, label, family, sequence, coords, sites, true_label``
        (``label`` includes the label noise, ``true_label`` does not).
    """
    rng = np.random.default_rng(seed)
    rows = []
    fam_no = 0
    gene_no = 0
    while gene_no < n_genes:
        fam_no += 1
        size = min(int(rng.geometric(0.55)), 5, n_genes - gene_no)
        template = _BASES[rng.choice(4, size=length, p=_BG)]
        responsive = rng.random() < responsive_fraction
        chrom = int(rng.integers(1, 6))
        for _ in range(size):
            gene_no += 1
            seq = template.copy()
            mut = rng.random(length) < mutation_rate
            seq[mut] = _BASES[rng.choice(4, size=int(mut.sum()), p=_BG)]
            sites: list[str] = []
            occupied = np.zeros(length, dtype=bool)
            put = _Planter(seq, occupied, sites, rng)
            if responsive:
                for _k in range(int(rng.integers(2, 5))):
                    put(ABRE[rng.integers(2)], max(0, length - 250), length - 30, "+-"[rng.integers(2)], True)
            elif rng.random() < 0.15:
                put(ABRE[rng.integers(2)], 0, length, "+-"[rng.integers(2)], True)
            for _k in range(int(rng.integers(0, 3))):
                put(DISTRACTORS[rng.integers(len(DISTRACTORS))], 0, length, "+-"[rng.integers(2)], False)
            start = int(rng.integers(10_000, 30_000_000))
            strand = "+-"[rng.integers(2)]
            gid = f"SYN{chrom}G{gene_no * 10:05d}"
            rows.append(
                {
                    "gene_id": gid,
                    "true_label": int(responsive),
                    "family": f"FAM{fam_no:04d}",
                    "sequence": "".join(seq),
                    "coords": f"Chr{chrom}:{start}-{start + length}({strand})",
                    "sites": ";".join(sorted(sites, key=lambda s: int(s.split(":")[0]))),
                }
            )
    df = pd.DataFrame(rows)
    flip = rng.random(len(df)) < label_noise
    df["label"] = np.where(flip, 1 - df["true_label"], df["true_label"]).astype(int)
    return df[["gene_id", "label", "family", "sequence", "coords", "sites", "true_label"]]


def demo_fasta_records(df: pd.DataFrame) -> list[tuple[str, str]]:
    """The ``(header, sequence)`` pairs of a demo table, headers in the Arabidopsis style.

    Parameters
    ----------
    df : pandas.DataFrame
        A table from :func:`make_demo_dataset` (``gene_id``, ``coords``, ``sequence``).

    Returns
    -------
    list of tuple of (str, str)
        ``("GENE::Chr:start-end(strand)", sequence)`` per row, in table order.
    """
    return [(f"{g}::{c}", s) for g, c, s in zip(df["gene_id"], df["coords"], df["sequence"], strict=True)]
