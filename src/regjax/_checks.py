"""Input checks shared by the public functions.

Static facts (shapes, dtypes, names) are always checked. Values (λ ≥ 0, finite data,
labels in {0, 1}) are checked when they are concrete; inside ``jit``/``grad`` they are
tracers and the check is skipped (wrap the call in ``jax.experimental.checkify`` for
traced checks).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike


def is_concrete(x: Any) -> bool:
    """True when ``x`` holds values (not a tracer inside jit/grad/vmap)."""
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(x))


def check_lam(lam: Any, name: str = "lam") -> None:
    """λ (a scalar or a pytree of scalars) must be finite and ≥ 0 when concrete."""
    for leaf in jax.tree.leaves(lam):
        if not is_concrete(leaf):
            continue
        value = np.asarray(leaf)
        if not np.issubdtype(value.dtype, np.number) or np.iscomplexobj(value):
            raise TypeError(f"{name} must be a real number, got dtype {value.dtype}")
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{name} must be finite, got {value}")
        if np.any(value < 0):
            raise ValueError(f"{name} must be >= 0, got {value}")


def check_positive(value: Any, name: str) -> None:
    """A count or size such as m, n or the learning rate must be > 0 (when concrete)."""
    if value is None or not is_concrete(value):
        return
    arr = np.asarray(value)
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value}")


def check_finite(x: ArrayLike, name: str) -> None:
    """Data must not hold NaN or inf (when concrete)."""
    if is_concrete(x) and not bool(np.all(np.isfinite(np.asarray(x)))):
        raise ValueError(f"{name} holds non-finite values (NaN or inf)")


def as_matrix(X: ArrayLike, name: str = "X") -> jax.Array:
    """``X`` as a 2-D floating array of shape (m, n), checked."""
    X = jnp.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (m, n), got shape {X.shape}")
    if not jnp.issubdtype(X.dtype, jnp.floating):
        raise TypeError(f"{name} must be a floating array, got dtype {X.dtype}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} must have at least one row (m > 0), got shape {X.shape}")
    check_finite(X, name)
    return X


def check_rows(X: jax.Array, y: jax.Array, name: str = "y") -> None:
    """``y`` has one row per row of ``X``."""
    if y.ndim == 0 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"{name} must have one entry per row of X (m={X.shape[0]}), got shape {y.shape}"
        )


def check_binary(y: ArrayLike, name: str = "y") -> None:
    """Labels for a logistic cost must be exactly 0 or 1 (when concrete)."""
    if not is_concrete(y):
        return
    values = np.asarray(y)
    if not np.all((values == 0) | (values == 1)):
        bad = np.unique(values[(values != 0) & (values != 1)])[:5]
        raise ValueError(f"{name} must hold labels in {{0, 1}}, found {bad}")


def check_param_shape(params: Any, key: str, shape: tuple[int, ...], what: str) -> None:
    """``params[key]`` exists and has the given shape."""
    if not isinstance(params, dict) or key not in params:
        raise TypeError(f"params must be a dict with key {key!r} ({what})")
    actual = jnp.shape(params[key])
    if actual != shape:
        raise ValueError(f"params[{key!r}] must have shape {shape} ({what}), got {actual}")
