"""Tests of ``deepdife_core.experiments.sources`` (moved from ``tests/core/test_experiments.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.experiments.sources import motif_source


def test_sources_and_bad_specs():
    m = motif_source("ACGTGKC")
    assert m.kind == "iupac" and m.consensus == "ACGTGGC" and m.width == 7
    np.testing.assert_allclose(m.ppm[5], [0, 0, 0.5, 0.5])
    with pytest.raises(DeepDifEInputError, match="RUN:pos_0"):
        motif_source("AC GT")
    with pytest.raises(DeepDifEInputError, match="no motif run"):
        motif_source("nope:pos_0", motifs_root="/nonexistent")


def test_jaspar_matrix_by_id_offline(tmp_path):
    m = motif_source("MA0930", cache_dir=tmp_path)
    assert m.kind == "jaspar" and m.name.startswith("MA0930.") and m.ppm.shape[1] == 4
    np.testing.assert_allclose(m.ppm.sum(axis=1), 1.0)


def test_motif_run_pattern_source_reads_the_cwm_consensus(tmp_path):
    import h5py

    cwm = np.zeros((10, 4), dtype=np.float32)
    for j, b in enumerate("xxACGTGGCx"):
        if b in "ACGT":
            cwm[j, "ACGT".index(b)] = 1.0
    (tmp_path / "run1").mkdir()
    with h5py.File(tmp_path / "run1" / "modisco.h5", "w") as fh:  # modisco-lite's layout
        g = fh.create_group("pos_patterns/pattern_0")
        g["sequence"] = np.full((10, 4), 0.25, np.float32)
        g["contrib_scores"] = cwm
        g["hypothetical_contribs"] = cwm
        for key, val in (("example_idx", [0]), ("start", [0]), ("end", [10]), ("is_revcomp", [False])):
            g[f"seqlets/{key}"] = np.asarray(val)
    m = motif_source("run1:pos_0", motifs_root=tmp_path)
    assert m.kind == "pattern" and m.name == "run1:pos_0" and m.consensus == "ACGTGGC"
    with pytest.raises(DeepDifEInputError, match="has no pattern 'pos_3'"):
        motif_source("run1:pos_3", motifs_root=tmp_path)
