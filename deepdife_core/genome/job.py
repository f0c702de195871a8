"""Background job ``genome_add`` (the Data page's Genomes section): register a genome in its own process.

A runner of :data:`deepdife_core.jobs.runner.RUNNERS`: ``run(writer, args) -> (state, result)``.

``args``: ``name``, ``fasta``, ``annotation`` (paths), ``chrom_map`` (str or None),
``workspace``, ``fasta_name`` / ``annotation_name`` (the names shown in messages),
``uploads`` (a folder of uploaded copies to delete at the end, or None), ``overwrite``.
Events: ``{"event": "stage", "text"}`` before the work; the result is ``genome.json``'s content.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from deepdife_core.genome.registry import add_genome


def run(writer, args: dict) -> tuple[str, dict]:
    """Register the genome; uploaded copies are removed whatever happens.

    Parameters
    ----------
    writer
        The job's handle (:class:`deepdife_core.jobs.runner._JobWriter`).
    args
        See the module docstring.

    Returns
    -------
    tuple of str, dict
        ``"done"`` and ``{"genome": name, "info": genome.json}``.
    """
    try:
        writer.event({"event": "stage", "text": f"indexing {args['fasta_name']} and parsing {args['annotation_name']}"})
        info = add_genome(
            args["name"],
            args["fasta"],
            args["annotation"],
            chrom_map=args.get("chrom_map"),
            workspace=args.get("workspace"),
            overwrite=bool(args.get("overwrite")),
            fasta_name=args.get("fasta_name"),
            annotation_name=args.get("annotation_name"),
        )
    finally:
        if args.get("uploads"):
            shutil.rmtree(Path(args["uploads"]), ignore_errors=True)
    return "done", {"genome": info["name"], "info": info}
