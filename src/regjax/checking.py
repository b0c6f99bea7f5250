r"""``check_grad``: a hand-derived gradient against ``jax.grad`` and central differences.

Three witnesses for one gradient: the closed form :math:`g_c`, autodiff :math:`g_a`
and central differences

.. math::

    g_{n,i} = \frac{J(\theta + h_i e_i) - J(\theta - h_i e_i)}{2h_i}, \qquad
    h_i = \epsilon^{1/3}\max(1, |\theta_i|),

whose error is :math:`O(h^2)` truncation plus :math:`O(\epsilon|J|/h)` round-off. Both
are estimated per coordinate (Richardson: the same difference at 2h; and the costs'
rounding), and only the disagreement beyond that estimate counts, so a correct
gradient passes where the cost is huge next to its gradient (λ = 1e12, logits ±1e4)
and in bfloat16, while a wrong one still fails.

Errors are reported per leaf. The relative error of a leaf is
:math:`\max|a - b| / \max(\max|a|, \max|b|, 10^{-8} G)`, with G the largest gradient
entry over all leaves, so a leaf whose gradient is zero does not divide by zero.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jax.typing import DTypeLike

from regjax import _checks, closed_form, costs, penalties
from regjax._format import table
from regjax._typing import Data, Params, PyTree

__all__ = ["Case", "GradCheck", "LeafCheck", "builtin_cases", "check_grad", "default_tolerances"]

_MAX_COORDINATES = 4096


class LeafCheck(NamedTuple):
    """Errors of one leaf."""

    path: str
    abs_err: float
    rel_err: float
    numerical_rel_err: float


class GradCheck(NamedTuple):
    """The report of :func:`check_grad`.

    Attributes:
      max_abs_err: max |closed − autodiff| over every entry.
      max_rel_err: max over leaves of the relative error closed vs autodiff.
      numerical_max_rel_err: max over leaves of the relative error of closed and of
        autodiff vs central differences.
      ok: both within tolerance.
      leaves: one :class:`LeafCheck` per leaf.
      rtol: the tolerance for closed vs autodiff.
      numerical_rtol: the tolerance against central differences.
    """

    max_abs_err: float
    max_rel_err: float
    numerical_max_rel_err: float
    ok: bool
    leaves: tuple[LeafCheck, ...] = ()
    rtol: float = 0.0
    numerical_rtol: float = 0.0

    def __str__(self) -> str:
        """The verdict and the tolerances, then one row per leaf (``print(report)``)."""
        verdict = "ok" if self.ok else "FAILED"
        rows = [
            [
                leaf.path or "(root)",
                f"{leaf.abs_err:.1e}",
                f"{leaf.rel_err:.1e}",
                f"{leaf.numerical_rel_err:.1e}",
                "ok" if self._leaf_ok(leaf) else "FAIL",
            ]
            for leaf in self.leaves
        ]
        headers = [
            "leaf",
            "abs err",
            f"rel err (≤{self.rtol:.0e})",
            f"vs numerical (≤{self.numerical_rtol:.0e})",
            "status",
        ]
        return (
            f"GradCheck {verdict}: closed form vs jax.grad (max rel err "
            f"{self.max_rel_err:.1e}) and vs central differences (max rel err "
            f"{self.numerical_max_rel_err:.1e})\n{table(headers, rows)}"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython and notebooks
        printer.text(str(self))

    def _leaf_ok(self, leaf: LeafCheck) -> bool:
        return leaf.rel_err <= self.rtol and leaf.numerical_rel_err <= self.numerical_rtol

    def raise_if_failed(self) -> GradCheck:
        """Raise ``AssertionError`` with the report's table unless every witness agreed
        (for tests: ``rj.check_grad(...).raise_if_failed()``); returns the report.

        Raises:
          AssertionError: ``ok`` is false; the message is ``str(self)``.
        """
        if not self.ok:
            raise AssertionError(str(self))
        return self


def default_tolerances(dtype: DTypeLike) -> tuple[float, float]:
    """(rtol closed vs autodiff, rtol vs central differences) for a dtype.

    float64: (1e-10, 1e-6). float32: (1e-4, 1e-2): float32 sums of m terms carry
    relative round-off of order √m·6e-8. 16-bit floats (bfloat16, float16): (5e-2,
    5e-2), √m·u with u = 2⁻⁹ (bfloat16) for m of about 100. The central differences
    are compared beyond their own estimated error (see :func:`check_grad`).

    Example:
      >>> default_tolerances("float64")
      (1e-10, 1e-06)
    """
    if jnp.dtype(dtype) == jnp.float64:
        return 1e-10, 1e-6
    if jnp.finfo(dtype).bits < 32:
        return 5e-2, 5e-2
    return 1e-4, 1e-2


def _central_differences(
    f: Callable[[jax.Array], jax.Array], flat: jax.Array, coords: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Central differences at the coordinates, and an estimate of their own error:
    Richardson's |D(h) − D(2h)|/3 for the truncation, and u·(|J₊| + |J₋|)/h (u the
    cost's unit round-off) for the rounding of the two costs."""
    eps = float(jnp.finfo(flat.dtype).eps)
    h = eps ** (1 / 3) * jnp.maximum(1.0, jnp.abs(flat[coords]))
    h = (flat[coords] + h) - flat[coords]  # a step that is exactly representable
    f_batch = jax.jit(jax.vmap(f))
    rows = np.arange(len(coords))

    def differences(step: jax.Array) -> tuple[np.ndarray, np.ndarray]:
        basis = jnp.zeros((len(coords), flat.size), flat.dtype).at[rows, coords].set(step)
        up, down = (np.asarray(f_batch(flat + s * basis), np.float64) for s in (1, -1))
        return (up - down) / (2 * np.asarray(step, np.float64)), np.abs(up) + np.abs(down)

    d1, size = differences(h)
    d2, _ = differences(2 * h)
    u = float(jnp.finfo(jnp.result_type(f(flat))).eps) / 2
    return d1, np.abs(d1 - d2) / 3 + 4 * u * size / np.asarray(h, np.float64)


def _relative(a: np.ndarray, b: np.ndarray, floor: float) -> float:
    if a.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))), floor)
    if scale == 0.0:
        return 0.0
    return float(np.max(np.abs(a - b))) / scale


def check_grad(
    cost: Callable[..., jax.Array],
    closed_grad: Callable[..., Params],
    params: Params,
    *args: Data,
    rtol: float | None = None,
    numerical_rtol: float | None = None,
    seed: int = 0,
    jit: bool = True,
) -> GradCheck:
    r"""Compare ``closed_grad(params, *args)`` with ``jax.grad(cost)`` and central differences.

    Args:
      cost: scalar function ``cost(params, *args)``.
      closed_grad: its hand-derived gradient, ``closed_grad(params, *args)``, a pytree
        with the structure of ``params``.
      params: the point, a pytree of floating arrays.
      *args: the remaining arguments of both (data, λ, …).
      rtol: tolerance closed vs autodiff (default by dtype, :func:`default_tolerances`).
      numerical_rtol: tolerance against central differences (default by dtype).
      seed: picks the coordinates differenced when there are more than 4096.
      jit: compile the two gradients (one compilation each instead of one per
        operation; value checks inside ``cost`` are skipped under jit). ``False``
        evaluates them eagerly, for functions that are not traceable.

    Returns:
      A :class:`GradCheck` report.

    Raises:
      ValueError: the closed gradient's structure or shapes differ from ``params``.

    Example:
      >>> import jax, jax.numpy as jnp, regjax as rj
      >>> X = jnp.array([[1.0, 2.0], [3.0, -1.0]]); y = jnp.array([0.5, -1.0])
      >>> params = {"w": jnp.array([0.1, -0.2]), "b": jnp.array(0.3)}
      >>> report = rj.check_grad(rj.costs.linear_regression,
      ...                        rj.closed_form.linear_regression_grad, params, X, y, 0.7)
      >>> report.ok
      True
    """
    flat, unravel = ravel_pytree(params)
    if not jnp.issubdtype(flat.dtype, jnp.floating):
        raise TypeError(f"params must be floating, got dtype {flat.dtype}")
    _checks.check_float_params(params)  # NaN or inf: an error, not a NaN report
    for i, arg in enumerate(args):
        if isinstance(arg, np.ndarray | jax.Array) and jnp.issubdtype(arg.dtype, jnp.inexact):
            _checks.check_finite(arg, f"args[{i}]")
    default_rtol, default_numerical = default_tolerances(flat.dtype)
    rtol = default_rtol if rtol is None else rtol
    numerical_rtol = default_numerical if numerical_rtol is None else numerical_rtol

    transform = jax.jit if jit else (lambda f: f)
    auto = transform(jax.grad(cost))(params, *args)
    closed = transform(closed_grad)(params, *args)
    _check_like_params(closed, params)

    def f(v: jax.Array) -> jax.Array:
        return cost(unravel(v), *args)

    coords = np.arange(flat.size)
    if flat.size > _MAX_COORDINATES:
        coords = np.sort(
            np.random.default_rng(seed).choice(flat.size, _MAX_COORDINATES, replace=False)
        )
    numerical, noise = np.full(flat.size, np.nan), np.zeros(flat.size)
    numerical[coords], noise[coords] = _central_differences(f, flat, coords)
    closed_flat = np.asarray(ravel_pytree(closed)[0], dtype=np.float64)
    auto_flat = np.asarray(ravel_pytree(auto)[0], dtype=np.float64)
    leaves = _leaf_checks(params, closed_flat, auto_flat, numerical, noise)
    max_abs = max((leaf.abs_err for leaf in leaves), default=0.0)
    max_rel = max((leaf.rel_err for leaf in leaves), default=0.0)
    max_num = max((leaf.numerical_rel_err for leaf in leaves), default=0.0)
    finite = bool(np.all(np.isfinite(closed_flat)) and np.all(np.isfinite(auto_flat)))
    ok = finite and max_rel <= rtol and max_num <= numerical_rtol
    return GradCheck(max_abs, max_rel, max_num, ok, tuple(leaves), rtol, numerical_rtol)


def _check_like_params(closed: PyTree, params: Params) -> None:
    """The closed gradient has the structure and the leaf shapes of ``params``."""
    if str(jax.tree.structure(closed)) != str(jax.tree.structure(params)):
        raise ValueError(
            f"closed_grad returned structure {jax.tree.structure(closed)}, "
            f"params have {jax.tree.structure(params)}"
        )
    for path, c, p in zip(
        jax.tree_util.tree_flatten_with_path(params)[0],
        jax.tree.leaves(closed),
        jax.tree.leaves(params),
    ):
        if jnp.shape(c) != jnp.shape(p):
            name = jax.tree_util.keystr(path[0])
            raise ValueError(
                f"closed_grad{name} has shape {jnp.shape(c)}, params{name} {jnp.shape(p)}"
            )


def _leaf_checks(
    params: Params, closed: np.ndarray, auto: np.ndarray, numerical: np.ndarray, noise: np.ndarray
) -> list[LeafCheck]:
    """One :class:`LeafCheck` per leaf, from the three flat gradients (NaN: not
    differenced); a difference counts beyond ``noise``, the differences' own error."""
    floor = 1e-8 * float(np.max(np.abs(auto), initial=0.0))
    leaves = []
    start = 0
    for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
        stop = start + int(np.size(leaf))
        a, c, num = auto[start:stop], closed[start:stop], numerical[start:stop]
        seen = ~np.isnan(num)
        within = noise[start:stop][seen]  # move each witness toward num by the noise
        numerical_err = max(
            _relative(c[seen], _toward(num[seen], c[seen], within), floor),
            _relative(a[seen], _toward(num[seen], a[seen], within), floor),
        )
        abs_err = float(np.max(np.abs(a - c), initial=0.0))
        leaves.append(
            LeafCheck(jax.tree_util.keystr(path), abs_err, _relative(c, a, floor), numerical_err)
        )
        start = stop
    return leaves


def _toward(num: np.ndarray, target: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """``num`` moved toward ``target`` by at most ``noise``: what is left is the part of
    the disagreement that the differences' error cannot explain."""
    return num + np.clip(target - num, -noise, noise)


class Case(NamedTuple):
    """A named gradient check: ``check_grad(cost, closed_grad, params, *args)``."""

    name: str
    cost: Callable[..., jax.Array]
    closed_grad: Callable[..., Any]
    params: Any
    args: tuple[Any, ...]


def _penalty_cases(tree: Params, kinkless: Params, m: int, lam: float) -> list[Case]:
    cases = [
        Case(
            f"penalties.l2 ({scale})",
            lambda p, lam, kw=kw: penalties.l2(p, lam, **kw),
            lambda p, lam, kw=kw: closed_form.l2_grad(p, lam, **kw),
            tree,
            (lam,),
        )
        for scale in penalties.SCALES
        for kw in ({"m": m, "scale": scale},)
    ]
    for name, kw in (("l1", {}), ("elastic_net", {"l1_ratio": 0.3})):
        penalty, grad = getattr(penalties, name), getattr(closed_form, f"{name}_grad")
        cases.append(
            Case(
                f"penalties.{name}",
                lambda p, lam, f=penalty, kw=kw: f(p, lam, m=m, **kw),
                lambda p, lam, g=grad, kw=kw: g(p, lam, m=m, **kw),
                kinkless,
                (lam,),
            )
        )
    return cases


def builtin_cases(seed: int = 0, *, lam: float = 0.7) -> list[Case]:
    """Every built-in cost and penalty on a small random problem (float64 if enabled).

    Used by ``regjax check`` and the test suite.

    Example:
      >>> [case.name for case in builtin_cases()][:3]
      ['penalties.l2 (per_example)', 'penalties.l2 (sum)', 'penalties.l2 (per_param)']
    """
    rng = np.random.default_rng(seed)  # numpy draws: no compilation per random op
    dtype = jnp.zeros(()).dtype

    def normal(*shape: int) -> jax.Array:
        return jnp.asarray(rng.standard_normal(shape), dtype=dtype)

    m, n, k = 12, 4, 3
    X, y = normal(m, n), normal(m)
    labels = jnp.asarray(rng.integers(0, 2, m), dtype=dtype)
    classes = jnp.asarray(rng.integers(0, k, m), dtype=jnp.int32)
    glm = {"w": normal(n), "b": normal()}
    soft = {"w": normal(n, k), "b": normal(k)}
    net = [{"W": normal(5, n), "b": normal(5)}, {"W": normal(k, 5), "b": normal(k)}]
    Y = jnp.asarray(np.eye(k)[np.asarray(classes)], dtype=dtype)
    tree = {"layers": net, "w": glm["w"] + 0.5}  # nested, biases inside lists of dicts
    # |w| has a kink at 0: central differences need |w| > h (5e-3 in float32), so the
    # L1 cases move every weight 0.1 away from 0.
    kinkless = jax.tree.map(lambda w: w + 0.1 * jnp.sign(w), tree)
    models = (
        ("linear_regression", glm, y),
        ("logistic_regression", glm, labels),
        ("softmax_regression", soft, classes),
        ("neural_network", net, Y),
    )
    return _penalty_cases(tree, kinkless, m, lam) + [
        Case(
            f"costs.{name}",
            getattr(costs, name),
            getattr(closed_form, f"{name}_grad"),
            params,
            (X, target, lam),
        )
        for name, params, target in models
    ]
