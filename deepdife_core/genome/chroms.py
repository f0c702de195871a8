"""Chromosome names of a FASTA vs its annotation: detect a mismatch, suggest the map, apply ``--chrom-map``."""

from __future__ import annotations

import re
from pathlib import Path

from deepdife_core.errors import DeepDifEInputError

_PREFIX = re.compile(r"^(?:chromosome|chrom|chr|ch)[_\s]?", re.IGNORECASE)


def canonical(name: str) -> str:
    """The name without case, a ``chr``/``chromosome`` prefix or leading zeros: ``Chr01``, ``chr1`` and ``1`` give ``1``.

    ``ChrC`` / ``Pt`` and ``ChrM`` / ``Mt`` give ``C`` and ``M``.

    Parameters
    ----------
    name
        A chromosome name.

    Returns
    -------
    str
        Its comparison key.
    """
    key = _PREFIX.sub("", str(name).strip()).upper()
    key = key.lstrip("0") or key
    return {"PT": "C", "CP": "C", "CHLOROPLAST": "C", "MT": "M", "MITOCHONDRIA": "M", "MITOCHONDRION": "M"}.get(
        key, key
    )


def parse_chrom_map(spec: str | None) -> dict[str, str] | str | None:
    """``"1=Chr1,2=Chr2"``, a two-column file (TSV/CSV, ``a b`` per line) or ``"auto"`` -> pairs (or ``"auto"``).

    Parameters
    ----------
    spec
        The ``--chrom-map`` value; None or "" for none.

    Returns
    -------
    dict of str to str, "auto" or None
        Pairs as written (each pair may be either annotation=FASTA or FASTA=annotation).
    """
    if spec is None or not str(spec).strip():
        return None
    spec = str(spec).strip()
    if spec.lower() == "auto":
        return "auto"
    if "=" not in spec and Path(spec).is_file():
        pairs = {}
        for i, line in enumerate(Path(spec).read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = re.split(r"[\t,; ]+", line.strip())
            if len(parts) != 2:
                raise DeepDifEInputError(f"{Path(spec).name}, line {i}: give two names per line (annotation FASTA)")
            pairs[parts[0]] = parts[1]
        return pairs
    pairs = {}
    for item in spec.split(","):
        a, sep, b = item.partition("=")
        if not sep or not a.strip() or not b.strip():
            raise DeepDifEInputError(
                f"chrom_map {spec!r}: use ANNOTATION=FASTA pairs separated by commas (e.g. 1=Chr1,2=Chr2), "
                "a two-column file or 'auto'"
            )
        pairs[a.strip()] = b.strip()
    return pairs


def suggest(annotation: list[str], fasta: list[str]) -> dict[str, str]:
    """Find, for each annotation name missing from the FASTA, the FASTA name with the same :func:`canonical` key.

    Parameters
    ----------
    annotation : list of str
        Chromosome names used by the annotation's genes.
    fasta : list of str
        Chromosome names of the FASTA's records.

    Returns
    -------
    dict of str to str
        annotation name -> FASTA name, only where exactly one FASTA name fits.
    """
    have = set(fasta)
    keys: dict[str, list[str]] = {}
    for f in fasta:
        keys.setdefault(canonical(f), []).append(f)
    out = {}
    for a in annotation:
        if a in have:
            continue
        hit = keys.get(canonical(a), [])
        if len(hit) == 1:
            out[a] = hit[0]
    return out


def resolve(
    annotation: list[str], fasta: list[str], chrom_map: dict[str, str] | str | None, *, names: tuple[str, str]
) -> tuple[dict[str, str], list[str]]:
    """The map annotation chromosome -> FASTA chromosome, and the annotation chromosomes left without one.

    Parameters
    ----------
    annotation, fasta
        Chromosome names used by the annotation's genes and the FASTA's records.
    chrom_map
        :func:`parse_chrom_map`'s result.
    names
        The annotation's and the FASTA's file names, for messages.

    Returns
    -------
    tuple of dict, list of str
        The map (identity for shared names) and the names without a FASTA record.

    Raises
    ------
    DeepDifEInputError
        Names differ but a map can be suggested (the message gives it), a map names a chromosome
        neither file has, or no chromosome of the annotation is in the FASTA.
    """
    ann_name, fa_name = names
    have = set(fasta)
    used = set(annotation)
    mapping = {a: a for a in annotation if a in have}
    if chrom_map == "auto":
        mapping.update(suggest(annotation, fasta))
    elif chrom_map:
        for a, b in chrom_map.items():
            if a in used and b in have:
                mapping[a] = b
            elif b in used and a in have:
                mapping[b] = a
            else:
                raise DeepDifEInputError(
                    f"chrom_map {a}={b}: neither '{a}' nor '{b}' is a chromosome of {ann_name} matching one of "
                    f"{fa_name} (annotation: {', '.join(sorted(used)[:5])}; FASTA: {', '.join(fasta[:5])})"
                )
    missing = [a for a in sorted(used) if a not in mapping]
    hint = suggest(missing, fasta)
    if hint and chrom_map != "auto":
        shown = ",".join(f"{a}={b}" for a, b in list(hint.items())[:8])
        raise DeepDifEInputError(
            f"{ann_name} and {fa_name} name chromosomes differently (annotation '{next(iter(hint))}', FASTA "
            f"'{next(iter(hint.values()))}'; {len(hint)} names differ); register again with "
            f"chrom_map {shown}{',...' if len(hint) > 8 else ''} (or chrom_map auto)"
        )
    if not mapping:
        raise DeepDifEInputError(
            f"none of the chromosomes of {ann_name} ({', '.join(sorted(used)[:5])}) is in {fa_name} "
            f"({', '.join(fasta[:5])}); are they the same assembly? Give a chrom_map ANNOTATION=FASTA,..."
        )
    return mapping, missing
