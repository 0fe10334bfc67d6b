"""Reports CI systems and reviewers consume: JSON Schemas, JUnit XML, HTML, GitHub annotations.

Every checking command turns its engine's results into one neutral
``Report`` (``backends.reports.model``; the builders are one module per
engine: ``checksums``, ``wal``, ``snapshots``, ``events``, ``runs``), and the
renderers (``junit``, ``html``, ``annotations``) turn a ``Report`` into their
format. The builders only carry what the engines already give, which is
redacted where the engine redacts (WAL fields), so no renderer can show a
redacted value in clear. ``schemas`` serves the JSON Schemas of the ``--json``
outputs, shipped as package data.
"""
