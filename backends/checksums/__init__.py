"""Checksum manifests: parsing, verification with drift categories, writing."""
