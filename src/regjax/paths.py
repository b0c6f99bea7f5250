r"""Regularization paths: every λ of a grid solved in one computation.

Each solver takes a (G,) grid and returns a :class:`Path`: the parameters with a
leading G axis, and per λ whether it converged, its iterations and its final gradient
norm (for L1 and elastic net the KKT residual, the largest entry of the minimum-norm
subgradient). The objective, for ``l1_ratio`` = ρ, is the library's convention

.. math::

    J_g(w, b) = \frac1m\sum_i \ell(x_i^\top w + b, y_i)
        + \frac{\lambda_g}{m}\Big(\rho\lVert w\rVert_1 + \frac{1-\rho}{2}\lVert w\rVert^2\Big),

so ρ = 0 is the L2 penalty λ/(2m)‖w‖² and ρ = 1 the lasso's λ/m‖w‖₁ (scikit-learn's
``alpha`` is λ/m, ``C`` is 1/λ). Intercepts are never penalized.

==================  ===============================================================
solver              method
==================  ===============================================================
:func:`ridge`       exact, one SVD (:func:`regjax.closed_form.ridge_path`)
:func:`linear`      ρ > 0: batched accelerated proximal gradient (Gram space when
                    m ≥ n); ρ = 0: :func:`ridge`
:func:`logistic`    ρ = 0: batched Newton-CG; ρ > 0: batched proximal gradient
:func:`softmax`     the same, with K classes
==================  ===============================================================

Every solver is differentiable in reverse mode: ``jax.grad`` (or ``jax.jacrev``) of a
function of a path with respect to ``lams``, ``X`` or ``y`` is the implicit derivative of
the solutions (:mod:`regjax._implicit`: CG on Hessian-vector products at the solution,
on the support of w for ρ > 0; the ridge path differentiates its closed form), never an
unrolled solver, and equals :func:`regjax.hypergrad.val_loss_and_grad`. ``init=`` warm
starts the iterative solvers, e.g. from the path of a nearby grid.

Every iterative solver is compiled once per (shape, G): λ, ρ and the tolerances are
traced, so a new grid of the same length reuses the compiled program. Nothing is
hidden: a λ that did not converge, that diverged (NaN or inf), or that has no finite
minimizer (separable classes at λ = 0, a class that never occurs) has
``converged = False``, and an eager call warns with a
:class:`regjax.solvers.ConvergenceWarning` naming each such λ.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from regjax import _checks, _implicit, _ridge, closed_form
from regjax._typing import Params, result_dtype
from regjax.solvers import ConvergenceWarning

if TYPE_CHECKING:
    from regjax._typing import Grid, Labels, Matrix, Targets

__all__ = ["Path", "linear", "logistic", "ridge", "softmax"]

_NEWTON_MAX_ITER = 100
_PROXIMAL_MAX_ITER = 20_000


class Path(NamedTuple):
    """A regularization path: one solution per λ of the grid.

    Attributes:
      params: ``{"w": (G, n) or (G, n, K), "b": (G,) or (G, K)}``.
      lams: the grid, (G,).
      converged: per λ, whether the solver met its tolerance with a finite answer at
        a finite minimizer, (G,) bool.
      iterations: per λ, the solver's iterations (0 for the exact ridge path), (G,).
      grad_max: per λ, the final max|∇J| (L2) or KKT residual (L1, elastic net), (G,).
    """

    params: Params
    lams: jax.Array
    converged: jax.Array
    iterations: jax.Array
    grad_max: jax.Array


def _report(solver: str, path: Path, no_minimizer: jax.Array, tol: float | None) -> None:
    """Warn, naming each λ whose solution is not a converged, finite minimizer."""
    if not _checks.is_concrete((path, no_minimizer)):
        return  # inside jit: Path.converged says it
    lams = np.asarray(path.lams)
    absent = np.asarray(no_minimizer)
    finite = np.asarray(_checks.finite_lanes(path.params)) | absent
    stuck = ~np.asarray(path.converged) & finite & ~absent
    one_class = bool((absent & (lams > 0)).any())  # only a missing class does that at λ > 0
    problems = []
    for mask, what in (
        (~finite, "diverged (NaN or inf)"),
        (absent, "have no finite minimizer: a class never occurs in the labels (all one "
         "class?), so its intercept runs off to infinity" if one_class else "have no finite "
         "minimizer: the classes are separable at λ = 0 (or a class never occurs)"),
        (stuck, f"did not reach grad_max ≤ {tol} (raise max_iter, or see Path.grad_max)"),
    ):  # fmt: skip
        if mask.any():
            problems.append(f"{int(mask.sum())} of {len(lams)} λ {what}: λ = {lams[mask].tolist()}")
    if problems:
        warnings.warn(f"paths.{solver}: " + "; ".join(problems), ConvergenceWarning, stacklevel=4)


def _run(
    family_name: str,
    X: jax.Array,
    Y: jax.Array,
    lams: jax.Array,
    *,
    l1_ratio: float,
    tol: float,
    max_iter: int | None,
    max_cg: int = 200,
    init: tuple[jax.Array, jax.Array] | None = None,
) -> tuple[jax.Array, ...]:
    """Check the solver options and run the engine the penalty calls for (differentiable
    in X, Y and λ by the implicit function theorem)."""
    _checks.check_fraction(l1_ratio)
    _checks.check_tol(tol)
    proximal = float(l1_ratio) > 0
    if max_iter is None:
        max_iter = _PROXIMAL_MAX_ITER if proximal else _NEWTON_MAX_ITER
    _checks.check_int(max_iter, "max_iter", low=1)
    _checks.check_int(max_cg, "max_cg", low=1)
    dtype = X.dtype
    XT = X if proximal else X.T  # the Newton engine's stored transpose; unused otherwise
    return _implicit.solve(
        family_name, proximal, X, XT, Y, lams, jnp.asarray(l1_ratio, dtype),
        jnp.asarray(tol, dtype), jnp.asarray(max_iter), jnp.asarray(max_cg), init,
    )  # fmt: skip


def _finish(
    solver: str,
    params: Params,
    lams: jax.Array,
    outcome: tuple[jax.Array, ...],
    tol: float | None,
) -> Path:
    """The Path of an engine's outcome (iterations, grad_max, converged, no finite
    minimizer): converged only where the answer is finite at a finite minimizer."""
    iterations, grad_max, converged, no_minimizer = outcome
    converged = converged & ~no_minimizer & _checks.finite_lanes(params)
    path = Path(params, lams, converged, iterations, grad_max)
    _report(solver, path, no_minimizer, tol)
    return path


def _in_dtype(path: Path, dtype: Any) -> Path:
    """The path's parameters in the caller's dtype (computed in the widest float)."""
    return path._replace(params=jax.tree.map(lambda a: a.astype(dtype), path.params))


def _one_output(
    solver: str, family_name: str, X: jax.Array, y: jax.Array, lams: jax.Array, **options: Any
) -> Path:
    """A path of a model with one output: y (m,) in, ``{"w": (G, n), "b": (G,)}`` out."""
    init, dtype = options.pop("init"), options.pop("dtype")
    if init is not None:
        w, b = _start(init, lams, (X.shape[1],), ())
        init = (w.T[:, None, :], b[None, :])
    outcome = _run(family_name, X, y.astype(X.dtype)[:, None, None], lams, init=init, **options)
    W, b = outcome[:2]
    path = _finish(solver, {"w": W[:, 0, :].T, "b": b[0]}, lams, outcome[2:], options["tol"])
    return _in_dtype(path, dtype)


def _start(
    init: Params | Path, lams: jax.Array, w_shape: tuple[int, ...], b_shape: tuple[int, ...]
) -> tuple[jax.Array, jax.Array]:
    """A warm start's ``(w (G, *w_shape), b (G, *b_shape))`` in the grid's dtype, checked."""
    params = init.params if isinstance(init, Path) else init
    if not isinstance(params, dict) or set(params) != {"w", "b"}:
        raise TypeError("init must be a Path or params {'w': (G, ...), 'b': (G, ...)}")
    G = lams.shape[0]
    w, b = jnp.asarray(params["w"], lams.dtype), jnp.asarray(params["b"], lams.dtype)
    for name, value, shape in (("w", w, (G, *w_shape)), ("b", b, (G, *b_shape))):
        if value.shape != shape:
            raise ValueError(f"init['{name}'] must have shape {shape}, got {value.shape}")
        _checks.check_finite(value, f"init['{name}']")
    return jax.lax.stop_gradient(w), jax.lax.stop_gradient(b)


def _inputs(
    X: ArrayLike, y: ArrayLike, lams: ArrayLike, y_name: str = "y", ndims: tuple[int, ...] = (1, 2)
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """X and float y (in the widest float enabled), and the grid in X's dtype, all
    checked; integer labels stay integers."""
    X, y = _checks.data(X, y, y_name, ndims=ndims)
    X = X.astype(jax.dtypes.canonicalize_dtype(jnp.float64))
    y = y.astype(X.dtype) if jnp.issubdtype(y.dtype, jnp.floating) else y
    return X, y, _checks.as_grid(lams).astype(X.dtype)


def ridge(X: Matrix, y: Targets, lams: Grid) -> Path:
    r"""The exact ridge path, :math:`\frac{1}{2m}\lVert y - Xw - b\rVert^2 +
    \frac{\lambda}{2m}\lVert w\rVert^2` for every λ, from one SVD.

    :func:`regjax.closed_form.ridge_path` gives the parameters; ``grad_max`` is the
    gradient of the cost at them (round-off only), ``iterations`` is 0, and a λ
    converged when its solution is finite.

    Args:
      X: inputs, shape (m, n).
      y: targets, shape (m,) or (m, k).
      lams: λ grid, shape (G,), each ≥ 0.

    Returns:
      A :class:`Path` with ``params = {"w": (G, n) or (G, n, k), "b": (G,) or (G, k)}``.

    Example:
      >>> X = jnp.array([[0.0], [1.0], [2.0]]); y = 2 * X[:, 0] + 1
      >>> path = ridge(X, y, jnp.array([0.0, 2.0]))
      >>> path.params["w"][:, 0].round(4), bool(path.converged.all())
      (Array([2., 1.], dtype=float32), True)
    """
    dtype = result_dtype(X)
    X, y, lams = _inputs(X, y, lams)
    params = closed_form.ridge_path(X, y, lams)
    zeros = jnp.zeros(lams.shape, jnp.int32)
    outcome = (zeros, _ridge_grad_max(X, y, lams, params["w"]), zeros == 0, zeros != 0)
    return _in_dtype(_finish("ridge", params, lams, outcome, None), dtype)


def _ridge_grad_max(X: jax.Array, y: jax.Array, lams: jax.Array, w: jax.Array) -> jax.Array:
    """max|∇J| of the ridge cost at each λ's w (the intercept, ȳ − x̄ᵀw, is exact)."""
    Xc, yc = X - _ridge.column_mean(X), y - jnp.mean(y, axis=0)
    residual = jnp.einsum("mn,gn...->gm...", Xc, w) - yc
    reg = (lams / X.shape[0]).reshape((-1,) + (1,) * y.ndim)
    grad = jnp.einsum("mn,gm...->gn...", Xc, residual) / X.shape[0] + reg * w
    return jnp.max(jnp.abs(grad.reshape(lams.shape[0], -1)), axis=1)


def linear(
    X: Matrix,
    y: Targets,
    lams: Grid,
    *,
    l1_ratio: float = 1.0,
    tol: float = 1e-8,
    max_iter: int | None = None,
    init: Params | Path | None = None,
) -> Path:
    r"""The lasso or elastic-net path of linear regression, every λ at once.

    Minimizes :math:`\frac{1}{2m}\lVert y - Xw - b\rVert^2 +
    \frac{\lambda}{m}\big(\rho\lVert w\rVert_1 + \frac{1-\rho}{2}\lVert w\rVert^2\big)`,
    scikit-learn's ``ElasticNet(alpha=λ/m, l1_ratio=ρ)`` (``Lasso(alpha=λ/m)`` at ρ = 1),
    by batched accelerated proximal gradient (see :mod:`regjax._proximal`) until each
    λ's KKT residual is ≤ ``tol``; ρ = 0 is :func:`ridge`, exact.

    Args:
      X: inputs, shape (m, n).
      y: targets, shape (m,).
      lams: λ grid, shape (G,), each ≥ 0.
      l1_ratio: ρ in [0, 1].
      tol: KKT residual per λ (max-abs of the minimum-norm subgradient).
      max_iter: most iterations (default 20000).
      init: a warm start, a :class:`Path` (or its params) over a grid of the same
        length, e.g. the solution at nearby λ; default w = 0.

    Returns:
      A :class:`Path` with ``params = {"w": (G, n), "b": (G,)}``.

    Example:
      >>> X = jnp.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
      >>> y = jnp.array([2.0, 0.1, -2.0, -0.1])
      >>> path = linear(X, y, jnp.array([1.0]))   # Lasso(alpha=1/4): w₂ is exactly 0
      >>> [round(float(v), 6) for v in path.params["w"][0]]
      [1.5, 0.0]
    """
    _checks.check_fraction(l1_ratio)
    if float(l1_ratio) == 0:
        return ridge(X, y, lams)
    dtype = result_dtype(X)
    X, y, lams = _inputs(X, y, lams, ndims=(1,))
    return _one_output("linear", "squared", X, y, lams, l1_ratio=l1_ratio, tol=tol,
                       max_iter=max_iter, init=init, dtype=dtype)  # fmt: skip


def logistic(
    X: Matrix,
    y: Targets,
    lams: Grid,
    *,
    l1_ratio: float = 0.0,
    tol: float = 1e-8,
    max_iter: int | None = None,
    max_cg: int = 200,
    init: Params | Path | None = None,
) -> Path:
    r"""The path of regularized logistic regression, every λ at once.

    Minimizes, for every :math:`\lambda_g` together,

    .. math::

        J_g(w, b) = \frac1m\sum_i\big[\log(1 + e^{z_i}) - y_i z_i\big]
            + \frac{\lambda_g}{m}\Big(\rho\lVert w\rVert_1
            + \frac{1-\rho}{2}\lVert w\rVert^2\Big), \qquad z = Xw + b

    (:func:`regjax.costs.logistic_regression` at ρ = 0; scikit-learn's ``C`` is 1/λ).
    ρ = 0 runs the batched Newton-CG (:mod:`regjax._newton`): every product with X is
    one GEMM over the grid, and a λ stops when max|∇J_g| ≤ ``tol``. ρ > 0 runs the
    batched proximal engine (:mod:`regjax._proximal`) to a KKT residual ≤ ``tol``.
    Every λ starts from w = 0, b = logit(ȳ). Computes in float64 when x64 is enabled
    (float32 otherwise, where ``tol`` should be about 1e-5 or more).

    Args:
      X: inputs, shape (m, n).
      y: labels in {0, 1}, shape (m,).
      lams: λ grid, shape (G,), each ≥ 0.
      l1_ratio: ρ in [0, 1].
      tol: max|∇J| (ρ = 0) or KKT residual (ρ > 0) per λ.
      max_iter: most Newton iterations (default 100), or proximal ones (20000).
      max_cg: most CG iterations per Newton iteration.
      init: a warm start, a :class:`Path` (or its params) over a grid of the same
        length, e.g. the solution at nearby λ; default w = 0.

    Returns:
      A :class:`Path` with ``params = {"w": (G, n), "b": (G,)}``.

    Example:
      >>> X = jnp.array([[0.0], [1.0], [2.0], [3.0]]); y = jnp.array([0, 0, 1, 1])
      >>> path = logistic(X, y, jnp.array([1.0, 10.0]), tol=1e-5)
      >>> path.params["w"].shape, bool(path.params["w"][0, 0] > path.params["w"][1, 0] > 0)
      ((2, 1), True)
    """
    dtype = result_dtype(X)
    X, y, lams = _inputs(X, y, lams, ndims=(1,))
    _checks.check_binary(y)
    return _one_output("logistic", "binary", X, y, lams, l1_ratio=l1_ratio, tol=tol,
                       max_iter=max_iter, max_cg=max_cg, init=init, dtype=dtype)  # fmt: skip


def softmax(
    X: Matrix,
    labels: Labels,
    lams: Grid,
    *,
    l1_ratio: float = 0.0,
    num_classes: int | None = None,
    tol: float = 1e-8,
    max_iter: int | None = None,
    max_cg: int = 200,
    init: Params | Path | None = None,
) -> Path:
    r"""The path of regularized softmax (multinomial logistic) regression.

    Minimizes :func:`regjax.costs.softmax_regression` (at ρ = 0) for every λ,

    .. math::

        J_g(W, b) = \frac1m\sum_i\big[\mathrm{logsumexp}(z_i) - z_{i,y_i}\big]
            + \frac{\lambda_g}{m}\Big(\rho\lVert W\rVert_1
            + \frac{1-\rho}{2}\lVert W\rVert_F^2\Big), \qquad z = XW + b,

    in the over-complete parametrization (K weight vectors, as scikit-learn's
    multinomial ``LogisticRegression``). Adding a constant to the K biases changes
    nothing, so b is returned with zero mean over the classes. Same engines as
    :func:`logistic`; every λ starts from W = 0, b = centred log class frequencies.

    Args:
      X: inputs, shape (m, n).
      labels: integer classes in [0, K), shape (m,).
      lams: λ grid, shape (G,), each ≥ 0.
      l1_ratio: ρ in [0, 1].
      num_classes: K (default: ``max(labels) + 1``, which needs concrete labels).
      tol: max|∇J| (ρ = 0) or KKT residual (ρ > 0) per λ.
      max_iter: most Newton iterations (default 100), or proximal ones (20000).
      max_cg: most CG iterations per Newton iteration.
      init: a warm start, a :class:`Path` (or its params) over a grid of the same
        length, e.g. the solution at nearby λ; default w = 0.

    Returns:
      A :class:`Path` with ``params = {"w": (G, n, K), "b": (G, K)}``.

    Example:
      >>> X = jnp.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
      >>> path = softmax(X, jnp.array([0, 0, 1, 1, 2, 2]), jnp.ones(3), tol=1e-5)
      >>> path.params["w"].shape, path.params["b"].shape
      ((3, 1, 3), (3, 3))
    """
    dtype = result_dtype(X)
    X, labels, lams = _inputs(X, labels, lams, "labels", ndims=(1,))
    if num_classes is None:
        if not _checks.is_concrete(labels):
            raise ValueError("num_classes is required when labels are traced")
        num_classes = int(np.max(np.asarray(labels))) + 1
    _checks.check_int(num_classes, "num_classes", low=2)
    _checks.check_labels(labels, num_classes)
    Y = jax.nn.one_hot(labels, num_classes, dtype=X.dtype)[:, :, None]
    if init is not None:
        w, b = _start(init, lams, (X.shape[1], num_classes), (num_classes,))
        init = (jnp.transpose(w, (1, 2, 0)), b.T)
    outcome = _run("softmax", X, Y, lams, l1_ratio=l1_ratio, tol=tol, max_iter=max_iter,
                   max_cg=max_cg, init=init)  # fmt: skip
    W, b = outcome[:2]
    params = {"w": jnp.transpose(W, (2, 0, 1)), "b": b.T}
    return _in_dtype(_finish("softmax", params, lams, outcome[2:], tol), dtype)
