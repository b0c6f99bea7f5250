"""Hermetic test set-up: seeded randomness, x64 per test (strict promotion: ../conftest.py).

x64 is turned on per test through the ``x64`` fixture (``with jax.enable_x64(True)``),
never globally; a test that compares with a closed form requests it.
"""

from __future__ import annotations

import os

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "regjax",
    deadline=None,
    derandomize=True,
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "regjax"))


@pytest.fixture
def x64():
    """Enable float64 for one test."""
    with jax.enable_x64(True):
        yield


@pytest.fixture
def rng():
    """A seeded numpy generator."""
    return np.random.default_rng(0)
