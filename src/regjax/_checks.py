"""Input checks, the only home of regjax's argument validation.

Static facts (shapes, dtypes, names) are always checked. Values (λ ≥ 0, finite data,
labels in {0, 1}) are checked when they are concrete; inside ``jit``/``grad`` they are
tracers and the check is skipped. Every message names the argument and what was
expected.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from regjax._typing import Lam, Params


def is_concrete(x: Any) -> bool:
    """True when ``x`` holds values (not a tracer inside jit/grad/vmap)."""
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(x))


def _real(value: np.ndarray, name: str) -> None:
    if not np.issubdtype(value.dtype, np.number) or np.iscomplexobj(value):
        raise TypeError(f"{name} must be a real number, got dtype {value.dtype}")


def check_lam(lam: Lam, name: str = "lam") -> None:
    """λ (a scalar or a pytree of scalars) must be finite and ≥ 0 when concrete."""
    for leaf in jax.tree.leaves(lam):
        if not is_concrete(leaf):
            continue
        value = np.asarray(leaf)
        _real(value, name)
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{name} must be finite, got {value}")
        if np.any(value < 0):
            raise ValueError(f"{name} must be >= 0, got {value}")


def as_grid(lams: ArrayLike, name: str = "lams") -> jax.Array:
    """A λ grid: a non-empty 1-D array (G,) of finite values ≥ 0, in a floating dtype.

    The one place a grid is validated (paths, sweeps, cross-validation, closed forms).
    """
    grid = jnp.asarray(lams)
    if grid.ndim != 1 or grid.shape[0] == 0:
        raise ValueError(f"{name} must be 1-D (G,) and non-empty, got shape {grid.shape}")
    if not jnp.issubdtype(grid.dtype, jnp.floating):
        _real(np.asarray(grid), name)
        grid = grid.astype(jnp.zeros(()).dtype)
    check_lam(grid, name)
    return grid


def check_positive(value: Any, name: str) -> None:
    """A count or size such as m, n or the learning rate must be > 0 (when concrete)."""
    if value is None or not is_concrete(value):
        return
    arr = np.asarray(value)
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value}")


def check_int(value: Any, name: str, *, low: int, high: int | None = None) -> None:
    """``value`` is a Python (or NumPy) int in [low, high]."""
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool)
    if not ok or value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be an int {bound}, got {value!r}")


def check_tol(tol: Any, name: str = "tol", *, allow_zero: bool = False) -> None:
    """A tolerance: a finite number > 0 (≥ 0 with ``allow_zero``), when concrete."""
    if not is_concrete(tol):
        return
    value = float(np.asarray(tol))
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(
            f"{name} must be a finite number {'>=' if allow_zero else '>'} 0, got {tol!r}"
        )


def check_fraction(value: Any, name: str = "l1_ratio", *, open_: bool = False) -> None:
    """A fraction such as the elastic net's ρ in [0, 1], or in (0, 1) with ``open_``
    (when concrete)."""
    if not is_concrete(value):
        return
    v = float(np.asarray(value))
    if not (0.0 < v < 1.0 if open_ else 0.0 <= v <= 1.0):
        raise ValueError(f"{name} must be in {'(0, 1)' if open_ else '[0, 1]'}, got {value}")


def check_hyperparameter(value: Any, name: str) -> None:
    """An optimizer hyperparameter: an Optax schedule, or a finite scalar ≥ 0."""
    if value is None:
        raise ValueError(f"{name} is required (a number >= 0 or an optax schedule), got None")
    if callable(value):
        return
    check_lam(value, name)
    if jnp.ndim(value) != 0:
        raise ValueError(f"{name} must be a scalar or a schedule, got shape {jnp.shape(value)}")


def check_count(value: Any, name: str, what: str) -> None:
    """A required positive scalar such as m, the number of training examples."""
    if value is None:
        raise ValueError(f"{name} ({what}) is required, got None")
    check_positive(value, name)
    if jnp.ndim(value) != 0:
        raise ValueError(f"{name} must be a scalar, got shape {jnp.shape(value)}")


def check_choice(value: Any, name: str, choices: Collection[str]) -> None:
    """``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")


def check_finite(x: ArrayLike, name: str) -> None:
    """Data must not hold NaN or inf (when concrete)."""
    if is_concrete(x) and not bool(np.all(np.isfinite(np.asarray(x)))):
        raise ValueError(f"{name} holds non-finite values (NaN or inf)")


def finite_lanes(result: Any) -> jax.Array:
    """Which lanes (entries of the leading axis) of a batched result hold only finite
    values, shape (G,); integer and boolean leaves are always finite."""
    leaves = [jnp.asarray(v) for v in jax.tree.leaves(result)]
    ok = [
        jnp.all(jnp.isfinite(v.reshape(v.shape[0], -1)), axis=1)
        for v in leaves
        if jnp.issubdtype(v.dtype, jnp.inexact)
    ]
    if not ok:
        return jnp.ones(leaves[0].shape[0] if leaves else 0, bool)
    return jnp.all(jnp.stack(ok), axis=0)


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


def data(
    X: ArrayLike, y: ArrayLike, y_name: str = "y", *, ndims: tuple[int, ...] | None = None
) -> tuple[jax.Array, jax.Array]:
    """``(X, y)`` checked: X a finite (m, n) floating matrix, y finite with m rows (and
    1-D, ``ndims=(1,)``, or 1-D or 2-D, ``ndims=(1, 2)``, where asked)."""
    X = as_matrix(X)
    y = jnp.asarray(y)
    check_rows(X, y, y_name)
    if ndims is not None and y.ndim not in ndims:
        shapes = {(1,): "be 1-D (m,)", (1, 2): "have shape (m,) or (m, k)"}[ndims]
        raise ValueError(f"{y_name} must {shapes}, got shape {y.shape}")
    check_finite(y, y_name)
    return X, y


def same_rows(arrays: Any, name: str = "data") -> int:
    """The common leading axis m of a pytree of arrays (at least one), checked."""
    leaves = jax.tree.leaves(arrays)
    if not leaves:
        raise ValueError(f"{name} must hold arrays with a leading example axis")
    m = jnp.shape(leaves[0])[0] if jnp.ndim(leaves[0]) else 0
    if any(jnp.shape(a)[:1] != (m,) for a in leaves):
        raise ValueError(f"every array of {name} needs the same leading axis m={m}")
    return m


def check_same_shape(a: jax.Array, b: jax.Array, names: tuple[str, str]) -> None:
    """``b`` has the shape of ``a``, which has a leading example axis."""
    if a.shape != b.shape:
        raise ValueError(f"{names[1]} must have the shape of {names[0]} {a.shape}, got {b.shape}")
    if a.ndim == 0:
        raise ValueError(f"{names[0]} must have a leading example axis, got a scalar")


def cost_inputs(
    X: ArrayLike, y: ArrayLike, lam: Lam, y_name: str = "y"
) -> tuple[jax.Array, jax.Array]:
    """The inputs of a regularized cost or its gradient: :func:`data`, and λ ≥ 0."""
    check_lam(lam)
    return data(X, y, y_name)


def check_binary(y: ArrayLike, name: str = "y") -> None:
    """Labels for a logistic cost must be exactly 0 or 1 (when concrete)."""
    if not is_concrete(y):
        return
    values = np.asarray(y)
    if not np.all((values == 0) | (values == 1)):
        bad = np.unique(values[(values != 0) & (values != 1)])[:5]
        raise ValueError(f"{name} must hold labels in {{0, 1}}, found {bad}")


def check_labels(labels: jax.Array, k: int, name: str = "labels") -> None:
    """Class labels are 1-D integers in [0, k) (the range checked when concrete)."""
    if labels.ndim != 1 or not jnp.issubdtype(labels.dtype, jnp.integer):
        raise TypeError(
            f"{name} must be 1-D integers in [0, {k}), got dtype {labels.dtype} "
            f"and shape {labels.shape}"
        )
    if is_concrete(labels):
        values = np.asarray(labels)
        if np.any(values < 0) or np.any(values >= k):
            raise ValueError(f"{name} must be integers in [0, {k}), got {np.unique(values)}")


def check_float_params(params: Params) -> None:
    """Every leaf of ``params`` is floating (an integer leaf would truncate λ·w)."""
    for leaf in jax.tree.leaves(params):
        if not jnp.issubdtype(jnp.result_type(leaf), jnp.floating):
            raise TypeError(
                f"params leaves must be floating arrays, got dtype {jnp.result_type(leaf)}"
            )


def check_linear_params(params: Params, X: jax.Array) -> None:
    """``{"w": (n,) or (n, k), "b": () or (k,)}``, floating, matching X (m, n)."""
    if not isinstance(params, dict) or "w" not in params or "b" not in params:
        raise TypeError("params must be a dict {'w': (n,) or (n, k), 'b': () or (k,)}")
    w, b = jnp.asarray(params["w"]), jnp.asarray(params["b"])
    if w.ndim not in (1, 2) or w.shape[0] != X.shape[1]:
        raise ValueError(
            f"params['w'] must have shape ({X.shape[1]},) or ({X.shape[1]}, k) to match "
            f"X of shape {X.shape}, got {w.shape}"
        )
    expected_b = () if w.ndim == 1 else (w.shape[1],)
    if b.shape != expected_b:
        raise ValueError(f"params['b'] must have shape {expected_b}, got {b.shape}")
    if not (jnp.issubdtype(w.dtype, jnp.floating) and jnp.issubdtype(b.dtype, jnp.floating)):
        raise TypeError(f"params must be floating arrays, got dtypes w {w.dtype}, b {b.dtype}")


def check_mlp_params(params: Params, X: jax.Array) -> None:
    """A non-empty list of floating layers ``{"W": (out, in), "b": (out,)}`` chained
    from X's n columns."""
    if not isinstance(params, list | tuple) or not params:
        raise TypeError("params must be a non-empty list of layers {'W': (out, in), 'b': (out,)}")
    width = X.shape[1]
    for i, layer in enumerate(params):
        if not isinstance(layer, dict) or "W" not in layer or "b" not in layer:
            raise TypeError(f"params[{i}] must be a dict {{'W': (out, in), 'b': (out,)}}")
        W, b = jnp.shape(layer["W"]), jnp.shape(layer["b"])
        if len(W) != 2 or W[1] != width:
            raise ValueError(f"params[{i}]['W'] must have shape (out, {width}), got {W}")
        if b != (W[0],):
            raise ValueError(f"params[{i}]['b'] must have shape ({W[0]},), got {b}")
        dtypes = (jnp.result_type(layer["W"]), jnp.result_type(layer["b"]))
        if not all(jnp.issubdtype(d, jnp.floating) for d in dtypes):
            raise TypeError(f"params[{i}] must hold floating arrays, got dtypes {dtypes}")
        width = W[0]
