"""Root test set-up, for the test suite and the doctests in src/regjax alike.

* 8 simulated CPU devices (set before JAX starts), so sharded code paths run;
* one OpenBLAS thread (numpy's LAPACK);
* strict dtype promotion inside every test and doctest;
* doctests see ``jax``, ``jnp``, ``np`` and ``rj`` (regjax).
"""

from __future__ import annotations

import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
# one BLAS thread: on two cores OpenBLAS's threads only contend (LAPACK SVDs 3-7x slower)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _strict_promotion():
    """Implicit dtype promotion is an error inside every test."""
    with jax.numpy_dtype_promotion("strict"):
        yield


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    import jax.numpy as jnp

    import regjax

    doctest_namespace.update(jax=jax, jnp=jnp, np=np, rj=regjax)
