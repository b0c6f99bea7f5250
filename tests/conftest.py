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
from hypothesis.database import DirectoryBasedExampleDatabase

# Hypothesis profiles, chosen by HYPOTHESIS_PROFILE. "regjax" (the default, `make test`):
# 25 cases per property (a test's own @settings(max_examples=...) wins), the same cases on
# every run. "fuzz" (`make fuzz`, before a release): 2000 fresh random cases per property;
# a failure prints the blob that replays it (@reproduce_failure) and is saved in
# .hypothesis/, where the next fuzz run tries it first.
settings.register_profile(
    "regjax",
    deadline=None,
    derandomize=True,
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "fuzz",
    parent=settings.get_profile("regjax"),
    derandomize=False,
    max_examples=2000,
    print_blob=True,
    database=DirectoryBasedExampleDatabase(".hypothesis/examples"),
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
