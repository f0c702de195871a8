"""Issue 14's round trip on the dashboard: genome -> promoters (Data page flow, core) -> dataset -> train (tiny) ->
the Saliency page's genomic axis shows the genome coordinates of the cut promoter."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dashboard import state
from deepdife_core.config import AugmentConfig, DatasetConfig, ModelConfig, TrainConfig
from deepdife_core.data.io import dataset_from_gene_lists
from deepdife_core.genome.promoters import PromoterConfig
from deepdife_core.genome.registry import GenomePromoters, add_genome
from deepdife_core.genome.synthetic import make_genome
from tests.dashboard.apptest_helpers import goto, texts


@pytest.fixture(scope="module")
def jaspar_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from deepdife_core.motifs.modisco import jaspar_plants

    folder = tmp_path_factory.mktemp("motif_db")
    jaspar_plants(cache_dir=folder)
    return folder


@pytest.mark.slow
def test_genome_dataset_trains_and_saliency_shows_genome_coordinates(app, dirs, tmp_path, jaspar_export):
    from dashboard.datasets import save_dataset
    from deepdife_core.train.fit import train_dataset

    shutil.copytree(jaspar_export, dirs["workspace"] / "motif_db")
    fa, an, truth = make_genome(tmp_path / "in", chrom_lengths=(20_000, 15_000, 12_000), n_genes=60, seed=11)
    add_genome("G", fa, an)
    genes = truth["gene_id"].unique().tolist()
    (tmp_path / "up.txt").write_text("\n".join(genes[:30]))
    (tmp_path / "flat.txt").write_text("\n".join(genes[30:]))
    src = GenomePromoters("G", PromoterConfig(upstream=80, downstream=20))
    cfg = DatasetConfig(length=100)
    df, _ = dataset_from_gene_lists(tmp_path / "up.txt", tmp_path / "flat.txt", None, promoters=src, cfg=cfg)
    save_dataset(df, "genome-set", {"source": {"kind": "gene-lists", "genome": "G"}, "config": cfg.__dict__})
    train_dataset(
        df,
        model_cfg=ModelConfig(filters=8, kernel_size=8, dense_units=(16,)),
        train_cfg=TrainConfig(epochs=2, batch_size=20, seed=1),
        augment_cfg=AugmentConfig(enabled=False),
        dataset_cfg=cfg,
        out=dirs["models"] / "genome-model",
        dataset_name="genome-set",
    )
    row = df[df["coords"].str.endswith("(-)")].iloc[0]  # a minus-strand gene: the axis runs backwards
    gene = row["gene_id"]
    t = truth[truth["gene_id"] == gene].iloc[0]
    tss = t["end"] - 1  # minus strand: GFF end - 1
    app.session_state[state.DATA_ACTIVE] = "genome-set"
    app.session_state[state.SALIENCY_GENE] = gene
    goto(app, "saliency")
    assert not app.error, texts(app.error)
    app.radio(key="w.saliency.axis").set_value("genomic").run()
    assert not app.exception
    spec = json.loads(app.get("plotly_chart")[0].proto.spec)
    layout = spec["layout"]
    bottom = max((k for k in layout if k.startswith("xaxis")), key=lambda k: int(k[5:] or 1))
    assert layout[bottom]["title"]["text"].startswith(f"{t['chrom']} position")
    ticks = dict(zip(layout[bottom]["tickvals"], layout[bottom]["ticktext"], strict=True))
    # record index i of a minus-strand window is genome base tss + U - i (0-based), i.e. tss + 81 - i 1-based
    assert ticks and all(label == f"{tss + 81 - i:,}" for i, label in ticks.items()), (tss, ticks)
