"""Self-contained HTML report of a motif run (``report.html``).

Logos are inlined as base64 PNG; every string that comes from user data or
databases (gene IDs, headers, motif IDs and names, metadata) goes through
:func:`html.escape`, so markup in a gene ID is shown as text, never run.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em} h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;font-size:0.85em}
th,td{border:1px solid #ccc;padding:3px 6px;vertical-align:middle;text-align:left}
th{background:#f2f2f2} td.num{text-align:right;font-variant-numeric:tabular-nums}
img.logo{height:60px} .muted{color:#777;font-size:0.85em} dl{font-size:0.85em}
dt{font-weight:600;float:left;clear:left;width:14em} dd{margin-left:15em}
"""


def esc(value: Any) -> str:
    """Escape ``value`` as HTML text (quotes too); ``None``/NaN become an empty string.

    Parameters
    ----------
    value : object
        Anything with a ``str``.

    Returns
    -------
    str
        The escaped text.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def _num(value: Any, fmt: str = "{:.3g}") -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return esc(value)
    return "" if math.isnan(v) else esc(fmt.format(v))


def _img(data: bytes, alt: str) -> str:
    b64 = base64.b64encode(data).decode("ascii")
    return f'<img class="logo" alt="{esc(alt)}" src="data:image/png;base64,{b64}">'


def render_report(
    patterns: Sequence[Any],
    table: pd.DataFrame,
    matches: pd.DataFrame,
    seqlets: pd.DataFrame,
    logos: Any,
    *,
    info: dict | None = None,
    n_example_genes: int = 10,
) -> str:
    """Render the HTML text of a motif run's report.

    Parameters
    ----------
    patterns : sequence of Pattern
        :class:`~deepdife_core.motifs.modisco.Pattern` objects.
    table, matches, seqlets : pandas.DataFrame
        ``patterns.csv``, the TOMTOM matches and ``seqlets.csv`` tables.
    logos : LogoCache
        A :class:`~deepdife_core.motifs.modisco.LogoCache` (logos are drawn once and reused).
    info : dict, optional
        Run metadata shown in the header (model, data, method, database, ...).
    n_example_genes : int
        Seqlets listed per pattern (the first ones of ``seqlets``).

    Returns
    -------
    str
        A self-contained HTML page (logos embedded as base64 PNG).
    """
    info = info or {}
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>DeepDifE motif report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>DeepDifE motif report</h1>",
        "<dl>",
    ]
    for key, value in info.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        out.append(f"<dt>{esc(key)}</dt><dd>{esc(value)}</dd>")
    out.append("</dl>")
    out.append(
        '<p class="muted">TF-MoDISco lite patterns; logos are the contribution weight matrices (CWM) on both '
        "strands, trimmed to positions with at least 30% of the maximum contribution (+4 bp). Matches: TOMTOM "
        "(memelite) of the trimmed PPM; q-values are Benjamini-Hochberg over all database motifs.</p>"
    )
    if not patterns:
        out.append("<p><strong>No patterns were found.</strong></p></body></html>")
        return "\n".join(out)

    by_name = {row["pattern"]: row for _, row in table.iterrows()}
    has_enrichment = "fisher_p" in table.columns
    head = ["pattern", "seqlets", "forward CWM", "reverse CWM", "top matches (q-value)"]
    if has_enrichment:
        head += ["genes resp. / non-resp.", "odds ratio", "Fisher p"]
    out.append("<h2>Patterns</h2><table><thead><tr>")
    out.extend(f"<th>{esc(h)}</th>" for h in head)
    out.append("</tr></thead><tbody>")
    for p in patterns:
        row = by_name.get(p.name, {})
        m = matches[matches["pattern"] == p.name] if len(matches) else matches
        match_html = "<br>".join(
            f"{esc(r['match_id'])} <strong>{esc(r['match_name'])}</strong>"
            f"{' [' + esc(r['family']) + ']' if r['family'] else ''} (q={_num(r['qvalue'])})"
            for _, r in m.iterrows()
        )
        cells = [
            f"<td><strong>{esc(p.name)}</strong><br><code>{esc(row.get('consensus', ''))}</code></td>",
            f'<td class="num">{p.n_seqlets}</td>',
            f"<td>{_img(logos.get_bytes(p, 'fwd'), p.name + ' forward')}</td>",
            f"<td>{_img(logos.get_bytes(p, 'rev'), p.name + ' reverse')}</td>",
            f"<td>{match_html or '<span class=muted>no database</span>'}</td>",
        ]
        if has_enrichment:
            cells += [
                f'<td class="num">{esc(row.get("n_genes_responsive"))} / {esc(row.get("n_genes_nonresponsive"))}</td>',
                f'<td class="num">{_num(row.get("odds_ratio"))}</td>',
                f'<td class="num">{_num(row.get("fisher_p"))}</td>',
            ]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")

    out.append("<h2>Example seqlets</h2>")
    out.append(
        f'<p class="muted">Up to the first {int(n_example_genes)} seqlets of each pattern; '
        "pos_from_tss = start - L (the promoter ends at the TSS). All seqlets are in seqlets.csv.</p>"
    )
    cols = ["gene_id", "start", "end", "strand", "pos_from_tss", "label"]
    for p in patterns:
        sel = seqlets[seqlets["pattern"] == p.name].head(n_example_genes)
        out.append(f"<h3>{esc(p.name)}</h3><table><thead><tr>")
        out.extend(f"<th>{esc(c)}</th>" for c in cols)
        out.append("</tr></thead><tbody>")
        for _, r in sel.iterrows():
            out.append("<tr>" + "".join(f"<td>{esc(r.get(c))}</td>" for c in cols) + "</tr>")
        out.append("</tbody></table>")
    out.append("</body></html>")
    return "\n".join(out)
