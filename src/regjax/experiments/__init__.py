"""Reproducible studies of the scaling questions; each returns its data and a figure."""

from regjax.experiments import weight_decay

__all__ = ["weight_decay"]
