"""Run folders and the background processes working in them.

``layout`` names every file (torch-free), ``store`` reads and writes a run folder (:class:`RunDir`, the
manifest), ``files`` writes atomically, ``process`` launches, watches and ends processes and hands out slots,
``jobs`` and ``worker`` train in the background, ``tasks`` runs a run's analyses in the background, and
``retention`` prunes old runs. Nothing is imported here, so that the torch-free modules stay light.
"""
