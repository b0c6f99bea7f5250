"""Reproducible studies of the scaling questions; each returns its data and a figure."""
