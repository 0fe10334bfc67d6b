"""Screens pushed over the panes, one per module."""
