"""Results of the analyses: the tidy results table (:mod:`~fairgen_core.results.table`) every method writes and
the figures drawn from it (:mod:`~fairgen_core.results.charts`)."""
