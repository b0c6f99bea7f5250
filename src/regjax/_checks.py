r"""Input checks, the only home of regjax's argument validation.

Static facts (shapes, dtypes, names) are always checked. Values (λ ≥ 0 and finite,
finite data, labels in {0, 1} or [0, K), counts, fractions, tolerances) are checked at
once when they are concrete; inside ``jit``, ``vmap`` or ``grad`` they are tracers and
go through :func:`regjax._traced.traced_check`, switched by ``REGJAX_ON_ERROR`` (off by
default; ``raise`` or ``checkify``). Every message names the argument and what was
expected.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from regjax._traced import traced_check
from regjax._typing import Lam, Params


def is_concrete(x: Any) -> bool:
    """True when ``x`` holds values (not a tracer inside jit/grad/vmap)."""
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(x))


def _real(value: np.ndarray, name: str) -> None:
    """An integer or real floating dtype (bfloat16 included), not bool or complex."""
    dtype = value.dtype
    if not (jnp.issubdtype(dtype, jnp.integer) or jnp.issubdtype(dtype, jnp.floating)):
        raise TypeError(f"{name} must be a real number, got dtype {dtype}")


def check_lam(lam: Lam, name: str = "lam") -> None:
    """λ (a scalar or a pytree of scalars) must be finite and ≥ 0 when concrete."""
    for leaf in jax.tree.leaves(lam):
        if not is_concrete(leaf):
            _real(np.zeros(0, jnp.result_type(leaf)), name)
            traced_check(jnp.isfinite(leaf) & (leaf >= 0), f"{name} must be finite and >= 0")
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
    if not isinstance(lams, jax.Array):  # a list of strings or a ragged list, plainly
        try:
            host = np.asarray(lams)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name} must be a 1-D array of numbers, got {lams!r}") from err
        if host.dtype == object:
            raise TypeError(f"{name} must be a 1-D array of numbers, got {lams!r}")
        _real(host, name)
        check_lam(host, name)  # before the cast, which could round -1e-300 to -0.0
        target = jax.dtypes.canonicalize_dtype(host.dtype if host.dtype.kind == "f" else float)
        if host.size and np.max(host) > float(jnp.finfo(target).max):
            raise ValueError(f"{name} must fit in {target}, got a value of {np.max(host):g}")
    grid = jnp.asarray(lams)
    if grid.ndim != 1 or grid.shape[0] == 0:
        raise ValueError(f"{name} must be 1-D (G,) and non-empty, got shape {grid.shape}")
    if not jnp.issubdtype(grid.dtype, jnp.floating):
        _real(np.asarray(grid), name)
        grid = grid.astype(jnp.zeros(()).dtype)
    check_lam(grid, name)
    return grid


def check_positive(value: Any, name: str) -> None:
    """A count or size such as m, n or the learning rate must be > 0."""
    if value is None:
        return
    if not is_concrete(value):
        traced_check(jnp.isfinite(value) & (value > 0), f"{name} must be a finite number > 0")
        return
    arr = np.asarray(value)
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value}")


def _scalar(value: Any, name: str, what: str) -> None:
    """A real-number scalar (its type and shape; values are the caller's): not a string,
    a bool, None, complex or an array (tracers included: their shapes are static)."""
    if isinstance(value, bool | np.bool_ | str | bytes) or value is None:
        raise TypeError(f"{name} must be {what}, got {value!r}")
    try:
        dtype = jnp.result_type(value)
    except TypeError as err:
        raise TypeError(f"{name} must be {what}, got {value!r}") from err
    if not jnp.issubdtype(dtype, jnp.integer) and not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(f"{name} must be {what}, got {value!r} of dtype {dtype}")
    if jnp.ndim(value) != 0:
        raise ValueError(f"{name} must be a scalar ({what}), got shape {jnp.shape(value)}")


def check_int(value: Any, name: str, *, low: int, high: int | None = None) -> None:
    """``value`` is a Python (or NumPy) int in [low, high]."""
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool)
    if not ok or value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be an int {bound}, got {value!r}")


def check_tol(tol: Any, name: str = "tol", *, allow_zero: bool = False) -> None:
    """A tolerance: a finite number > 0 (≥ 0 with ``allow_zero``), when concrete."""
    if not is_concrete(tol):
        ok = jnp.isfinite(tol) & ((tol >= 0) if allow_zero else (tol > 0))
        traced_check(ok, f"{name} must be a finite number {'>=' if allow_zero else '>'} 0")
        return
    value = float(np.asarray(tol))
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(
            f"{name} must be a finite number {'>=' if allow_zero else '>'} 0, got {tol!r}"
        )


def check_fraction(
    value: Any, name: str = "l1_ratio", *, open_: bool = False, elementwise: bool = False
) -> None:
    """A fraction such as the elastic net's ρ in [0, 1], or in (0, 1) with ``open_``
    (its value when concrete); a string, a bool or (unless ``elementwise``: an array of
    them) an array is refused by type or shape."""
    if elementwise:
        try:
            dtype = jnp.result_type(value)
        except TypeError as err:
            raise TypeError(f"{name} must be numbers in [0, 1], got {value!r}") from err
        _real(np.zeros(0, dtype), name)
    else:
        _scalar(value, name, f"a number in {'(0, 1)' if open_ else '[0, 1]'}")
    if not is_concrete(value):
        ok = ((0 < value) & (value < 1)) if open_ else ((0 <= value) & (value <= 1))
        traced_check(ok, f"{name} must be in {'(0, 1)' if open_ else '[0, 1]'}")
        return
    v = np.asarray(value, np.float64)
    if not np.all(((0.0 < v) & (v < 1.0)) if open_ else ((0.0 <= v) & (v <= 1.0))):
        raise ValueError(f"{name} must be in {'(0, 1)' if open_ else '[0, 1]'}, got {value}")


# Steps at which a schedule is evaluated eagerly: 0, then 1, 2, 5, 10, ... up to 10⁶.
SCHEDULE_PROBES = (0, *(k * 10**e for e in range(7) for k in (1, 2, 5) if k * 10**e <= 10**6))


def check_schedule(schedule: Any, name: str) -> None:
    """A schedule ``step -> value`` is finite and ≥ 0 at the steps of
    :data:`SCHEDULE_PROBES` (where its values are concrete): a schedule that goes
    negative (``optax.linear_schedule(1.0, -1.0, 100)``) is refused before training."""
    for step in SCHEDULE_PROBES:
        try:
            with jax.numpy_dtype_promotion("standard"):  # optax mixes its int count and floats
                value = schedule(jnp.asarray(step, jnp.int32))
        except Exception as err:  # a callable that is no schedule (a mask, a loss...)
            raise TypeError(
                f"{name} is callable, so it is taken for a schedule step -> value; "
                f"{name}({step}) raised {type(err).__name__}: {err}"
            ) from err
        if not is_concrete(value):
            return
        v = np.asarray(value)
        if v.ndim != 0 or not np.issubdtype(v.dtype, np.number) or np.iscomplexobj(v):
            raise TypeError(f"{name}({step}) must be a real scalar, got {value!r}")
        if not np.isfinite(v) or v < 0:
            raise ValueError(
                f"{name} must be a schedule of finite values >= 0; {name}({step}) = {float(v):g}"
            )


def check_hyperparameter(value: Any, name: str, *, per_leaf: bool = False) -> None:
    """A number ≥ 0 or an Optax schedule (or, ``per_leaf``, a pytree prefix of params of them)."""
    leaves = jax.tree.leaves(value)  # a schedule is a leaf; None is no leaf (see transforms)
    for leaf in leaves if per_leaf and leaves else [value]:
        if leaf is None:
            raise ValueError(f"{name} is required (a number >= 0 or an optax schedule), got None")
        if callable(leaf):
            check_schedule(leaf, name)
            continue
        check_lam(leaf, name)  # a real number >= 0, then one number (not a dict, an array)
        _scalar(leaf, name, "a number >= 0 or a schedule" + per_leaf * ", or a pytree of them")


def check_learning_rate(value: Any, name: str = "learning_rate") -> None:
    """A learning rate η: a finite scalar > 0, or a schedule of finite values ≥ 0 (one
    that decays to 0 is fine). Every optimizer, transform and solver checks η so."""
    check_hyperparameter(value, name)
    if not callable(value) and is_concrete(value) and float(np.asarray(value)) == 0:
        raise ValueError(f"{name} must be > 0 (a zero step never moves), got {value!r}")


def check_moment(value: Any, name: str) -> None:
    """A moment decay such as momentum, Adam's b1 and b2: a number in [0, 1) (at 1
    the average never forgets, and Adam's bias correction divides by 1 − 1 = 0)."""
    _scalar(value, name, "a number in [0, 1)")
    if is_concrete(value) and not 0.0 <= float(np.asarray(value)) < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")


def check_count(value: Any, name: str, what: str, *, elementwise: bool = False) -> None:
    """A required count such as m (the number of training examples), n or a batch
    size: a positive integer scalar (an integral float such as 4.0 passes; its value
    is checked when concrete). ``elementwise``: an array of such counts, for the
    functions that map over them (λ conversions at several m)."""
    if value is None:
        raise ValueError(f"{name} ({what}) is required, got None")
    array = elementwise and isinstance(value, np.ndarray | jax.Array) and value.ndim > 0
    _scalar(
        value.ravel()[0] if array and value.size else value, name, f"a positive integer ({what})"
    )
    if not is_concrete(value):
        ok = jnp.isfinite(value) & (value >= 1) & (value == jnp.floor(value))
        traced_check(ok, f"{name} ({what}) must be a positive integer")
        return
    v = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(v) & (v >= 1) & (v == np.floor(v))):
        raise ValueError(f"{name} ({what}) must be a positive integer, got {value!r}")


def check_choice(value: Any, name: str, choices: Collection[str]) -> None:
    """``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")


def check_finite(x: ArrayLike, name: str) -> None:
    """Data must not hold NaN or inf."""
    if not is_concrete(x):
        if jnp.issubdtype(jnp.result_type(x), jnp.inexact):
            traced_check(jnp.isfinite(x), f"{name} holds non-finite values (NaN or inf)")
        return
    if not bool(np.all(np.isfinite(np.asarray(x)))):
        raise ValueError(f"{name} holds non-finite values (NaN or inf)")


def all_finite(x: Any) -> bool:
    """Whether every inexact leaf of a concrete pytree is finite, reduced on the device
    (eagerly, also when called while tracing a jit whose constants these are)."""
    with jax.ensure_compile_time_eval():
        leaves = [jnp.asarray(v) for v in jax.tree.leaves(x)]
        inexact = [v for v in leaves if jnp.issubdtype(v.dtype, jnp.inexact)]
        return all(bool(jnp.all(jnp.isfinite(v))) for v in inexact)


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
    """``X`` as a 2-D floating array of shape (m, n), checked; integer X is promoted to
    the default float (float32, or float64 with x64)."""
    X = jnp.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (m, n), got shape {X.shape}")
    if jnp.issubdtype(X.dtype, jnp.integer) and X.dtype != jnp.bool_:
        X = X.astype(jnp.zeros(()).dtype)
    if not jnp.issubdtype(X.dtype, jnp.floating):
        raise TypeError(f"{name} must be a floating (or integer) array, got dtype {X.dtype}")
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
    """Labels for a logistic cost must be exactly 0 or 1."""
    if not is_concrete(y):
        traced_check((y == 0) | (y == 1), f"{name} must hold labels in {{0, 1}}")
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
    if not is_concrete(labels):
        traced_check((labels >= 0) & (labels < k), f"{name} must be integers in [0, {k})")
        return
    values = np.asarray(labels)
    if np.any(values < 0) or np.any(values >= k):
        raise ValueError(f"{name} must be integers in [0, {k}), got {np.unique(values)}")


def check_float_params(params: Params) -> None:
    """Every leaf of ``params`` is floating (an integer leaf would truncate λ·w) and,
    when concrete, finite (NaN parameters, from a diverged fit, give a NaN penalty)."""
    for path, leaf in jax.tree_util.tree_leaves_with_path(params):
        if not jnp.issubdtype(jnp.result_type(leaf), jnp.floating):
            raise TypeError(
                f"params leaves must be floating arrays, got dtype {jnp.result_type(leaf)}"
            )
        if is_concrete(leaf) and not all_finite(leaf):
            raise ValueError(
                f"params{jax.tree_util.keystr(path)} holds non-finite values (NaN or inf)"
            )


def finite_result(value: Any, what: str) -> Any:
    """``value`` (a concrete result computed from finite, checked inputs) is finite, or
    a ValueError says that ``what`` is not (an overflow); returns ``value``."""
    if is_concrete(value) and not all_finite(value):
        dtype = getattr(value, "dtype", np.asarray(value).dtype)
        raise ValueError(
            f"{what} is not finite ({value}) for finite inputs: an overflow in {dtype}? "
            "Rescale the inputs, or use float64 (jax.config.update('jax_enable_x64', True))"
        )
    return value


def check_key(key: Any, name: str = "key") -> None:
    """A ``jax.random`` key: a typed key (``jax.random.key(0)``) or a raw uint32 (2,)
    key (``jax.random.PRNGKey(0)``)."""
    dtype = getattr(key, "dtype", None)
    typed = dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)
    raw = dtype == jnp.uint32 and jnp.shape(key) == (2,)
    if not (typed or raw):
        raise TypeError(f"{name} must be a jax.random key such as jax.random.key(0), got {key!r}")


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
    check_float_params(params)  # and finite, when concrete


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
    check_float_params(params)  # and finite, when concrete


def check_out_dir(path: Any, flag: str = "out") -> None:
    """A directory for figures can be written (or created): checked before any work, so
    a bad ``out`` (the CLI's ``--out``) fails at once, not after the computation."""
    target = Path(path).expanduser()
    if target.exists() and not target.is_dir():
        raise ValueError(f"{flag} {path!r} is a file, not a directory")
    existing = target
    while not existing.exists():  # the nearest ancestor that exists, where mkdir starts
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(f"{flag} {path!r} cannot be created: {str(existing)!r} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{flag} {path!r} cannot be written: no write permission in {existing}")
