"""Tests of ``deepdife_core.genome.annotation`` (moved from ``tests/core/test_genome.py``)."""

import gzip

import pytest
from hypothesis import given
from hypothesis import strategies as hst

from deepdife_core.errors import DeepDifEInputError
from deepdife_core.genome.registry import add_genome
from deepdife_core.genome.synthetic import make_genome
from tests.core.genome.helpers import _FUZZ, _LINE, BAD_ANNOTATIONS, _assert_registry_empty


def test_ensembl_prefixes_gtf_without_transcript_lines_and_genes_without_transcripts(tmp_path):
    from deepdife_core.genome.annotation import read_annotation

    gff = tmp_path / "ens.gff3"
    gff.write_text(
        "##gff-version 3\n"
        "1\tEnsembl\tchromosome\t1\t5000\t.\t.\t.\tID=chromosome:1\n"
        "1\tEnsembl\tgene\t101\t900\t.\t-\t.\tID=gene:AT1G01010;biotype=protein_coding\n"
        "1\tEnsembl\tmRNA\t101\t800\t.\t-\t.\tID=transcript:AT1G01010.1;Parent=gene:AT1G01010\n"
        "1\tEnsembl\texon\t101\t800\t.\t-\t.\tParent=transcript:AT1G01010.1\n"
        "1\tEnsembl\tncRNA_gene\t1001\t1200\t.\t+\t.\tID=gene:AT1G01020\n"
        "##FASTA\n>1\nACGT\n"
    )
    ann, facts = read_annotation(gff)
    assert facts == {"format": "gff3", "n_genes": 2, "n_transcripts": 1, "skipped_no_strand": 0}
    assert ann.to_dict("records") == [
        {
            "gene_id": "AT1G01010",
            "transcript_id": "AT1G01010.1",
            "chrom": "1",
            "strand": "-",
            "start": 100,
            "end": 800,
            "gene_start": 100,
            "gene_end": 900,
            "order": 0,
        },
        {
            "gene_id": "AT1G01020",
            "transcript_id": "",
            "chrom": "1",
            "strand": "+",
            "start": 1000,
            "end": 1200,
            "gene_start": 1000,
            "gene_end": 1200,
            "order": 0,
        },
    ]
    gtf = tmp_path / "exons.gtf"
    attrs = 'gene_id "G1"; transcript_id "G1.1";'
    gtf.write_text(
        f"Chr1\tx\texon\t11\t50\t.\t+\t.\t{attrs}\nChr1\tx\texon\t81\t120\t.\t+\t.\t{attrs}\n"
        'Chr1\tx\texon\t61\t70\t.\t+\t.\tgene_id "G1"; transcript_id "G1.2";\n'
    )
    ann, facts = read_annotation(gtf)
    assert facts["format"] == "gtf" and facts["n_genes"] == 1
    assert ann[["transcript_id", "start", "end", "gene_start", "gene_end", "order"]].values.tolist() == [
        ["G1.1", 10, 120, 10, 120, 0],
        ["G1.2", 60, 70, 10, 120, 1],
    ]


@pytest.mark.parametrize(("text", "message"), BAD_ANNOTATIONS)
def test_bad_annotations_have_one_message_and_leave_nothing(tmp_path, ws, text, message):
    fa, _, _ = make_genome(tmp_path / "in")
    an = tmp_path / "bad.gff3"
    an.write_text("##gff-version 3\n" * 0 + text)
    with pytest.raises(DeepDifEInputError, match=message.replace("(", r"\(").replace(")", r"\)")) as exc:
        add_genome("G", fa, an)
    assert "bad.gff3" in str(exc.value)
    _assert_registry_empty(ws)


@_FUZZ
@given(lines=hst.lists(_LINE, max_size=8), gz=hst.booleans(), cut=hst.integers(0, 40))
def test_fuzzed_annotations_parse_or_raise_one_input_error(tmp_path, lines, gz, cut):
    from deepdife_core.genome.annotation import read_annotation

    data = ("\n".join(lines) + "\n").encode()
    if gz:
        data = gzip.compress(data)
        data = data[: max(2, len(data) - cut)]
    path = tmp_path / "fuzz.gff3"
    path.write_bytes(data)
    try:
        ann, facts = read_annotation(path)
    except DeepDifEInputError as exc:
        assert "fuzz.gff3" in str(exc) and "\n" not in str(exc)
    else:
        assert facts["n_genes"] >= 1 and set(ann["strand"]) <= {"+", "-"}
