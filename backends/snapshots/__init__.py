"""Trace snapshot comparison: tree diff, text diff, structured diff."""
