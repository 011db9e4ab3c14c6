"""Results of the analyses and of a run's audit, one job per module.

:mod:`~fairgen_core.results.table` is the tidy results table every method writes (columns, method names, metrics,
one summary) and :mod:`~fairgen_core.results.charts` draws every figure of the core. A run's audit starts from
:mod:`~fairgen_core.results.evidence` (what is read and measured), judges it in
:mod:`~fairgen_core.results.verdicts`, writes it as HTML in :mod:`~fairgen_core.results.report` and as a table and
JSON in :mod:`~fairgen_core.results.metrics_export`; :mod:`~fairgen_core.results.text` words numbers and intervals the
same way for all of them, the CLI and the pages.
"""
