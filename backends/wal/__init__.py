"""WAL v2: reading, indexing, validation and record/replay parity diffs."""
