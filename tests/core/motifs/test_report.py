"""Tests of ``deepdife_core.motifs.report`` (moved from ``test_modisco.py``)."""

from __future__ import annotations

import pandas as pd

from deepdife_core.motifs.modisco import LogoCache, match_motifs, seqlet_table
from deepdife_core.motifs.report import render_report
from tests.core.motifs.helpers import _pattern


def test_report_escapes_html(tmp_path, jaspar):
    evil = "<script>alert('x')</script>"
    p = _pattern(name="pos_patterns.pattern_0")
    genes = [evil, "AT1G01010", 'x" onmouseover="alert(1)', "G3", "G4"]
    seqlets = seqlet_table([p], genes, length=600, labels=[1, 0, 1, 0, 1])
    matches = match_motifs([p], jaspar, top_k=2)
    matches.loc[0, "match_name"] = "<img src=x onerror=alert(2)>"
    table = pd.DataFrame([{"pattern": p.name, "consensus": "<b>C</b>"}])
    html = render_report([p], table, matches, seqlets, LogoCache(tmp_path), info={"data": "<script>x</script>"})
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "x&quot; onmouseover=&quot;alert(1)" in html
    assert html.count("data:image/png;base64,") == 2


def test_esc_and_numbers():
    from deepdife_core.motifs.report import _num, esc

    assert esc("<a href='x'>&</a>") == "&lt;a href=&#x27;x&#x27;&gt;&amp;&lt;/a&gt;"
    assert esc(None) == "" and esc(float("nan")) == "" and esc(3) == "3"
    assert _num(0.000123456) == "0.000123" and _num(1234567) == "1.23e+06" and _num("2.5", "{:.2f}") == "2.50"
    assert _num(float("nan")) == "" and _num("<b>") == "&lt;b&gt;"
