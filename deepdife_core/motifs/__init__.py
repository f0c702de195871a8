"""Motifs: TF-MoDISco patterns from attributions, database matches, scans and reports.

Modules: :mod:`.modisco` (the motif pipeline: modisco-lite on channels-first
attributions, TOMTOM matches via memelite, motif runs on disk), :mod:`.scan`
(PWM scanning of promoters, hit tables), :mod:`.report` (HTML/CSV reports).

Data contract: a *motif run* folder holds ``patterns.json`` (per pattern: name,
CWM / PPM ``(w, 4)``, seqlets with gene_id, start, end, strand), ``matches.csv``
(pattern, database motif ID and name, q-value) and the attributions it used.
"""
