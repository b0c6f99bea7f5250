"""Properties over random pytrees, shapes, dtypes, masks, λ's and conventions (hypothesis).

The cross-cutting suite of DESIGN.md ("properties"). Every property runs the number of
cases of the hypothesis profile in tests/conftest.py: 25 per property (per dtype, per
target where a test is parametrized) in ``make test``; 2000 with a fresh seed in
``make fuzz`` (``HYPOTHESIS_PROFILE=fuzz``). The modules' own files hold the worked
examples and the float64 gradient witnesses; this file covers the space between them:
nested dict/list trees with "b"/"bias" leaves, every mask kind, scalar, per-leaf and
prefix λ, float32/bfloat16/float64, every pair of conventions, random grids, bad input.

Expected values come from numpy in float64 on the same (rounded) inputs, never from the
code under test. Tolerances are first-order rounding bounds: a result built with k
roundings in a dtype of unit roundoff u is within k·u of the exact value, relative to
the magnitudes it is built from (each property states its k); float64 linear solves
are held to u·cond.
"""

from __future__ import annotations

import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import regjax as rj
from regjax import closed_form, conventions, costs, paths, penalties, prox, transforms

DTYPES = ("float32", "bfloat16", "float64")
SCALES = ("per_example", "sum", "per_param")
PENALTIES = ("l2", "l1", "elastic_net")
MASK_KINDS = ("none", "exclude_biases", "bool_tree", "bool_prefix", "callable", "path_regex")
LAM_KINDS = ("scalar", "zero", "per_leaf", "prefix")
BIASES = ("b", "bias")
SEEDS = st.integers(0, 2**32 - 1)
U64 = float(np.finfo(np.float64).eps) / 2


def _u(dtype) -> float:
    """The unit roundoff of ``dtype``."""
    return float(jnp.finfo(dtype).eps) / 2


def _x64(dtype):
    """float64 needs x64; float32 and bfloat16 run as a user without it would."""
    return jax.enable_x64(dtype == "float64")


def _np(x) -> np.ndarray:
    return np.asarray(x).astype(np.float64)


# ---------------------------------------------------------------------------------------
# random pytrees, masks and λ's


class _Shape(tuple):
    """A leaf's shape in a layout (a tuple subclass, so tree functions stop at it)."""


LEAF_SHAPES = ((), (1,), (3,), (2, 3), (2, 1, 2))
KEYS = ("w", "W", "kernel", "scale", "b", "bias", "enc", "head")
layouts = st.recursive(
    st.sampled_from(LEAF_SHAPES).map(_Shape),
    lambda kids: st.one_of(
        st.dictionaries(st.sampled_from(KEYS), kids, min_size=1, max_size=3),
        st.lists(kids, min_size=1, max_size=3),
    ),
    max_leaves=8,
)


@st.composite
def trees(draw):
    """Parameter pytrees in numpy float64: a bare leaf, dicts, lists and nested mixes,
    scalar and multi-dim leaves; entries ±[0.2, 2]·10^e, about one in ten exactly 0."""
    layout = draw(layouts)
    rng = np.random.default_rng(draw(SEEDS))
    magnitude = 10.0 ** draw(st.integers(-2, 2))

    def leaf(shape):
        x = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.2, 2.0, size=shape)
        return np.where(rng.random(shape) < 0.1, 0.0, magnitude * x)

    return jax.tree.map(leaf, layout, is_leaf=lambda s: isinstance(s, _Shape))


def _paths(tree) -> list[tuple]:
    """Each leaf's path: its dict keys and list indices, root first."""
    flat = jax.tree_util.tree_flatten_with_path(tree)[0]
    return [tuple(getattr(k, "key", getattr(k, "idx", None)) for k in p) for p, _ in flat]


def _tops(tree) -> list:
    if isinstance(tree, dict):
        return list(tree)
    return list(range(len(tree))) if isinstance(tree, list) else [None]


def _prefix(tree, values: dict):
    """A prefix of ``tree``: one value per top-level entry (the value itself for a leaf)."""
    if isinstance(tree, dict):
        return dict(values)
    return list(values.values()) if isinstance(tree, list) else values[None]


def make_mask(kind, tree, rng) -> tuple:
    """(mask argument, one flag per leaf): the flags worked out here from the paths."""
    paths_ = _paths(tree)
    if kind in ("none", "exclude_biases"):  # "b" and "bias" are the keys of biases
        mask = None if kind == "none" else penalties.exclude_biases
        spared = (*BIASES, "scale") if kind == "none" else BIASES  # default: norm scales too
        return mask, [not (p and p[-1] in spared) for p in paths_]
    if kind == "bool_tree":
        flags = [bool(f) for f in rng.integers(0, 2, len(paths_))]
        return jax.tree.unflatten(jax.tree.structure(tree), flags), flags
    if kind == "bool_prefix":
        top = {k: bool(rng.integers(0, 2)) for k in _tops(tree)}
        return _prefix(tree, top), [top[p[0] if p else None] for p in paths_]
    if kind == "callable":
        return (
            lambda p: jax.tree.map(lambda x: jnp.ndim(x) >= 2, p),
            [np.ndim(x) >= 2 for x in jax.tree.leaves(tree)],
        )
    assert kind == "path_regex"
    return penalties.path_mask(r"\['(W|kernel)'\]"), [
        any(k in ("W", "kernel") for k in p) for p in paths_
    ]


def make_lam(kind, tree, rng, scalar: float) -> tuple:
    """(lam argument, the λ of each leaf)."""
    paths_ = _paths(tree)
    if kind in ("scalar", "zero"):
        value = scalar if kind == "scalar" else 0.0
        return value, [value] * len(paths_)
    if kind == "per_leaf":
        values = [float(v) for v in rng.uniform(0.0, 10.0, len(paths_))]
        return jax.tree.unflatten(jax.tree.structure(tree), values), values
    top = {k: float(rng.uniform(0.0, 10.0)) for k in _tops(tree)}
    return _prefix(tree, top), [top[p[0] if p else None] for p in paths_]


def numpy_penalty(penalty, leaves, lams, flags, d, rho) -> tuple[float, list]:
    """Value and gradient leaves of the formulas in penalties.py's docstrings."""
    value, grads = 0.0, []
    for w, lam, keep in zip(leaves, lams, flags):
        lam = lam if keep else 0.0
        l2 = (lam * np.sum(w**2) / (2 * d), lam * w / d)
        l1 = (lam * np.sum(np.abs(w)) / d, lam * np.sign(w) / d)
        v, g = {"l2": l2, "l1": l1}.get(penalty, (None, None))
        if penalty == "elastic_net":
            v, g = rho * l1[0] + (1 - rho) * l2[0], rho * l1[1] + (1 - rho) * l2[1]
        value += v
        grads.append(g)
    return value, grads


def _divisor(scale, m, leaves, flags) -> int:
    n = sum(w.size for w, keep in zip(leaves, flags) if keep)
    return {"per_example": m, "sum": 1, "per_param": max(n, 1)}[scale]


penalty_cases = {
    "tree": trees(),
    "penalty": st.sampled_from(PENALTIES),
    "scale": st.sampled_from(SCALES),
    "mask_kind": st.sampled_from(MASK_KINDS),
    "lam_kind": st.sampled_from(LAM_KINDS),
    "lam": st.floats(1e-3, 1e3),
    "rho": st.floats(0.0, 1.0),
    "seed": SEEDS,
}


def _penalty_setup(tree, penalty, scale, mask_kind, lam_kind, lam, rho, seed, m):
    rng = np.random.default_rng(seed)
    mask, flags = make_mask(mask_kind, tree, rng)
    lam_arg, lams = make_lam(lam_kind, tree, rng, lam)
    kw = {"m": m, "scale": scale, "mask": mask}
    if penalty == "elastic_net":
        kw["l1_ratio"] = rho
    return lam_arg, lams, flags, kw


# ---------------------------------------------------------------------------------------
# penalties and their gradients


@pytest.mark.parametrize("dtype", DTYPES)
@given(**penalty_cases, m=st.integers(1, 10**6))
def test_penalties_and_gradients_equal_numpy_in_every_dtype(
    dtype, tree, penalty, scale, mask_kind, lam_kind, lam, rho, seed, m
):
    lam_arg, lams, flags, kw = _penalty_setup(
        tree, penalty, scale, mask_kind, lam_kind, lam, rho, seed, m
    )
    fn, closed = getattr(penalties, penalty), getattr(closed_form, f"{penalty}_grad")
    with _x64(dtype):
        params = jax.tree.map(lambda x: jnp.asarray(x, dtype), tree)
        got = fn(params, lam_arg, **kw)
        grads = closed(params, lam_arg, **kw)
        autodiff = jax.grad(lambda p: fn(p, lam_arg, **kw))(params)
    leaves = [_np(w) for w in jax.tree.leaves(params)]  # the rounded inputs
    value, expected = numpy_penalty(
        penalty, leaves, lams, flags, _divisor(scale, m, leaves, flags), rho
    )
    u = _u(dtype)
    if any(flags):  # (no penalized leaf: test_no_penalized_leaf_gives_zero_in_the_params_dtype)
        assert got.dtype == jnp.dtype(dtype)
    # a sum of nonnegative terms: one rounding per entry, a few per leaf and at the end
    k = 2 * (sum(w.size for w in leaves) + 3 * len(leaves) + 8)
    assert abs(float(got) - value) <= k * u * value
    for g, a, e in zip(jax.tree.leaves(grads), jax.tree.leaves(autodiff), expected):
        assert g.dtype == a.dtype == jnp.dtype(dtype)
        # λ, ρ and d rounded, two products, a quotient and a sum of like signs: k = 24,
        # elementwise (exact zeros where the expected gradient is 0: masked, λ = 0, w = 0)
        assert np.all(np.abs(_np(g) - e) <= 24 * u * np.abs(e))
        assert np.all(np.abs(_np(a) - e) <= 24 * u * np.abs(e))


@pytest.mark.parametrize("penalty", PENALTIES)
def test_no_penalized_leaf_gives_zero_in_the_params_dtype(penalty):
    params = {"b": jnp.ones(3, jnp.bfloat16), "layer": {"bias": jnp.ones((), jnp.bfloat16)}}
    kw = {"l1_ratio": 0.5} if penalty == "elastic_net" else {}
    got = getattr(penalties, penalty)(params, 2.0, m=4, **kw)
    assert float(got) == 0.0 and got.dtype == jnp.bfloat16


def test_a_mixed_precision_tree_is_penalized_under_strict_promotion():
    params = {"w": jnp.ones(3, jnp.bfloat16), "W": jnp.ones((2, 2), jnp.float32)}
    got = penalties.l2(params, 2.0, m=4)
    assert got.dtype == jnp.float32  # the widest leaf's
    np.testing.assert_allclose(float(got), 2.0 / 8 * 7, rtol=1e-6)


@given(**penalty_cases, m=st.integers(1, 8))
def test_a_user_cost_from_regularized_is_data_plus_the_numpy_penalty(
    x64, tree, penalty, scale, mask_kind, lam_kind, lam, rho, seed, m
):
    lam_arg, lams, flags, kw = _penalty_setup(
        tree, penalty, scale, mask_kind, lam_kind, lam, rho, seed, m
    )
    kw.pop("m")  # regularized takes m from X

    def data_cost(p, X, y):
        total = sum(jnp.sum(w) for w in jax.tree.leaves(p))
        return jnp.mean((X[:, 0] * total - y) ** 2) / 2

    cost = costs.regularized(data_cost, penalty=penalty, **kw)
    rng = np.random.default_rng(seed + 1)
    X, y = rng.normal(size=(m, 2)), rng.normal(size=m)
    leaves = jax.tree.leaves(tree)
    data = np.mean((X[:, 0] * sum(np.sum(w) for w in leaves) - y) ** 2) / 2
    value, _ = numpy_penalty(penalty, leaves, lams, flags, _divisor(scale, m, leaves, flags), rho)
    params = jax.tree.map(jnp.asarray, tree)
    np.testing.assert_allclose(float(cost(params, X, y, lam_arg)), data + value, rtol=1e-12)
    if lam_kind == "scalar":  # λ traced under vmap: a grid equals a loop
        grid = jnp.asarray([0.0, lam, 2 * lam])
        batched = jax.vmap(lambda lam_: cost(params, X, y, lam_))(grid)
        looped = [float(cost(params, X, y, v)) for v in grid]
        np.testing.assert_allclose(batched, looped, rtol=1e-14)


# ---------------------------------------------------------------------------------------
# Optax transforms


TRANSFORMS = (
    "add_l2_gradient",
    "decoupled_lr_scaled",
    "decoupled_independent",
    "prox_l1",
    "prox_elastic_net",
    "decay_toward",
)


def _transform(kind, hp, mask, reference):
    lam, m, eta, rate, rho = hp
    if kind == "add_l2_gradient":
        return transforms.add_l2_gradient(lam, m=m, mask=mask)
    if kind.startswith("decoupled"):
        scaled = kind == "decoupled_lr_scaled"
        return transforms.decoupled_weight_decay(
            rate, mask=mask, lr_scaled=scaled, learning_rate=eta if scaled else None
        )
    if kind == "prox_l1":
        return transforms.prox_l1(lam, m=m, learning_rate=eta, mask=mask)
    if kind == "prox_elastic_net":
        return transforms.prox_elastic_net(lam, l1_ratio=rho, m=m, learning_rate=eta, mask=mask)
    return transforms.decay_toward(reference, rate, mask=mask)


def numpy_update(kind, hp, p, g, ref) -> tuple[np.ndarray, np.ndarray]:
    """The update of transforms.py's docstrings, and the magnitudes it is built from."""
    lam, m, eta, rate, rho = hp
    if kind == "add_l2_gradient":
        return g + lam / m * p, np.abs(g) + lam / m * np.abs(p)
    if kind.startswith("decoupled"):
        r = eta * rate if kind == "decoupled_lr_scaled" else rate
        return g - r * p, np.abs(g) + r * np.abs(p)
    if kind == "decay_toward":
        return g + rate * (p - ref), np.abs(g) + rate * (np.abs(p) + np.abs(ref))
    s, rho = eta * lam / m, (1.0 if kind == "prox_l1" else rho)
    z = p + g  # the step the optimizer proposed; the prox of z, as an update from p
    w = np.sign(z) * np.maximum(np.abs(z) - s * rho, 0.0) / (1 + s * (1 - rho))
    return w - p, np.abs(p) + np.abs(g) + s


@pytest.mark.parametrize("dtype", DTYPES)
@given(
    tree=trees(),
    kind=st.sampled_from(TRANSFORMS),
    mask_kind=st.sampled_from(MASK_KINDS),
    lam=st.floats(0.0, 100.0),
    m=st.integers(1, 10**4),
    eta=st.floats(1e-3, 1.0),
    rate=st.floats(0.0, 1.0),
    rho=st.floats(0.0, 1.0),
    seed=SEEDS,
)
def test_transforms_equal_the_numpy_update_and_leave_masked_leaves_alone(
    dtype, tree, kind, mask_kind, lam, m, eta, rate, rho, seed
):
    rng = np.random.default_rng(seed)
    mask, flags = make_mask(mask_kind, tree, rng)
    grads = jax.tree.map(lambda x: rng.normal(size=np.shape(x)) * (np.max(np.abs(x)) + 1), tree)
    reference = jax.tree.map(lambda x: rng.normal(size=np.shape(x)), tree)
    hp = (lam, m, eta, rate, rho)
    with _x64(dtype):
        cast = lambda t: jax.tree.map(lambda x: jnp.asarray(x, dtype), t)  # noqa: E731
        params, grads, reference = cast(tree), cast(grads), cast(reference)
        tx = _transform(kind, hp, mask, reference)
        out, _ = tx.update(grads, tx.init(params), params)
    u = _u(dtype)
    leaves = zip(*(jax.tree.leaves(t) for t in (out, params, grads, reference)), flags)
    for o, p, g, r, keep in leaves:
        assert o.dtype == jnp.dtype(dtype) and o.shape == p.shape
        if not keep:  # untouched: the incoming update, bit for bit
            np.testing.assert_array_equal(_np(o), _np(g))
            continue
        expected, magnitude = numpy_update(kind, hp, _np(p), _np(g), _np(r))
        # hyperparameters cast (3), products and quotients (4), the sum, the prox's
        # difference from p (1-Lipschitz in z and in the threshold): k = 16
        assert np.all(np.abs(_np(o) - expected) <= 16 * u * magnitude)


def test_transforms_take_a_per_layer_lam():
    params = {"enc": {"W": jnp.ones((2, 3))}, "head": {"W": jnp.ones(3), "b": jnp.ones(())}}
    tx = transforms.add_l2_gradient({"enc": 2.0, "head": 10.0}, m=4)
    zeros = jax.tree.map(jnp.zeros_like, params)
    out, _ = tx.update(zeros, tx.init(params), params)
    np.testing.assert_allclose(out["enc"]["W"], 0.5)  # λ/m·θ with each layer's λ
    np.testing.assert_allclose(out["head"]["W"], 2.5)
    np.testing.assert_allclose(out["head"]["b"], 0.0)


# ---------------------------------------------------------------------------------------
# proximal operators


@pytest.mark.parametrize("dtype", DTYPES)
@given(
    shape=st.sampled_from(LEAF_SHAPES),
    per_entry=st.booleans(),
    which=st.sampled_from(("soft_threshold", "elastic_net")),
    rho=st.floats(0.0, 1.0),
    exponent=st.integers(-3, 3),
    seed=SEEDS,
)
def test_prox_operators_satisfy_the_optimality_condition(
    dtype, shape, per_entry, which, rho, exponent, seed
):
    rng = np.random.default_rng(seed)
    scale = 10.0**exponent
    x_np = rng.normal(size=shape) * scale
    t_np = rng.uniform(0.0, 2.0, size=shape if per_entry else ()) * scale
    with _x64(dtype):
        x, t = jnp.asarray(x_np, dtype), jnp.asarray(t_np, dtype)
        if which == "soft_threshold":
            w = prox.soft_threshold(x, t)
        else:
            w = prox.elastic_net(x, t, l1_ratio=rho)
    assert w.dtype == jnp.dtype(dtype) and w.shape == shape
    x, t, w = _np(x), np.broadcast_to(_np(t), shape), _np(w)
    a, c = (t, 0.0 * t) if which == "soft_threshold" else (rho * t, (1 - rho) * t)
    k = 16 * _u(dtype)  # the threshold sρ and the factor 1 + s(1 − ρ) are rounded too
    nz = w != 0
    # w ≠ 0: 0 = w − x + a·sign(w) + c·w, the subdifferential of ½(w − x)² + a|w| + c/2·w²
    residual = x - w - a * np.sign(w) - c * w
    assert np.all(np.abs(residual[nz]) <= k * (np.abs(x) + a + c * np.abs(w))[nz])
    assert np.all(np.sign(w[nz]) == np.sign(x[nz]))
    # w = 0: 0 ∈ −x + a·[−1, 1], i.e. |x| ≤ a
    assert np.all(np.abs(x[~nz]) <= (a * (1 + k))[~nz])
    if which == "soft_threshold":  # exact zeros, exactly where |x| ≤ t
        np.testing.assert_array_equal(~nz, np.abs(x) <= t)


# ---------------------------------------------------------------------------------------
# conventions: equivalent λ's have the same minimizer


NAMES = tuple(conventions.CONVENTIONS)
UPDATE_RULES = ("torch_weight_decay", "decoupled_lr_scaled", "decoupled_independent")


def _objective(name, v, m, n, lr) -> tuple[float, float]:
    """(α, β) of each convention's objective α·Σᵢ½rᵢ² + β·½‖w‖², from the table in
    conventions.py; for an update rule, the objective whose stationary point is its
    fixed point under plain SGD on the mean loss."""
    return {
        "ng": (1 / m, v / m),
        "sum": (1.0, v),
        "per_param": (1 / m, v / n),
        "mean_l2": (1 / m, v),
        "sklearn_ridge_alpha": (2.0, 2 * v),  # ‖y − Xw‖² + α‖w‖²
        "sklearn_logreg_C": (v, 1.0),  # C·Σ loss + ½‖w‖²
        "keras_l2": (1 / m, 2 * v),  # mean loss + l2·‖w‖²
        "torch_weight_decay": (1 / m, v),  # ∇mean + wd·w = 0
        "decoupled_lr_scaled": (1 / m, v),  # θ = θ − η(∇mean + wd·θ)
        "decoupled_independent": (lr / m, v),  # θ = θ − η∇mean − d·θ
    }[name]


def _minimizer(X, y, alpha, beta) -> tuple[np.ndarray, float]:
    Xc, yc = X - X.mean(0), y - y.mean()
    A = alpha * Xc.T @ Xc + beta * np.eye(X.shape[1])
    w = np.linalg.solve(A, alpha * Xc.T @ yc)
    return np.append(w, y.mean() - X.mean(0) @ w), np.linalg.cond(A)


def _sgd_step(name, v, theta, g, lr):
    """One plain-SGD step of an update rule (the gradient g of the mean loss)."""
    if name == "decoupled_independent":
        return theta - lr * g - v * theta
    return theta - lr * (g + v * theta)


@given(
    a=st.sampled_from(NAMES),
    b=st.sampled_from(NAMES),
    log_value=st.floats(-3.0, 3.0),
    n=st.integers(1, 6),
    extra=st.integers(2, 50),
    lr=st.floats(1e-3, 1.0),
    seed=SEEDS,
)
def test_converted_lambdas_have_the_same_minimizer(x64, a, b, log_value, n, extra, lr, seed):
    rng = np.random.default_rng(seed)
    m = n + extra
    X, y = rng.normal(size=(m, n)), rng.normal(size=m)
    value, kw = 10.0**log_value, {"m": m, "n": n, "learning_rate": lr}
    there = rj.convert_lambda(value, from_=a, to=b, **kw)
    sol_a, cond_a = _minimizer(X, y, *_objective(a, value, m, n, lr))
    sol_b, cond_b = _minimizer(X, y, *_objective(b, there, m, n, lr))
    tol = 100 * U64 * max(cond_a, cond_b) * np.max(np.abs(sol_a))
    np.testing.assert_allclose(sol_b, sol_a, rtol=0, atol=tol)
    if a in UPDATE_RULES and b in UPDATE_RULES:  # and the same SGD step from any θ
        theta, g = rng.normal(size=n), rng.normal(size=n)
        step_a, step_b = _sgd_step(a, value, theta, g, lr), _sgd_step(b, there, theta, g, lr)
        np.testing.assert_allclose(step_b, step_a, rtol=1e-13, atol=1e-15)
    values = value * np.array([1.0, 0.5, 3.0])  # arrays convert elementwise, both ways
    back = rj.convert_lambda(rj.convert_lambda(values, from_=a, to=b, **kw), from_=b, to=a, **kw)
    np.testing.assert_allclose(back, values, rtol=1e-12)


# ---------------------------------------------------------------------------------------
# costs: finite for finite input; vmap over λ equals a loop; the numpy formula


def _softplus(z):
    return np.logaddexp(0.0, z)


def numpy_cost(model, params, X, y):
    """(data term, magnitude it is built from) of costs.py's formulas, in float64."""
    absX = np.abs(X)
    if model == "neural_network":
        first, last = params
        a1 = 0.5 * (1 + np.tanh((X @ first["W"].T + first["b"]) / 2))  # σ, without overflow
        z = a1 @ last["W"].T + last["b"]
        data = np.sum(_softplus(z) - y * z) / X.shape[0]
        # |a1| ≤ 1, and its error is that of its pre-activation (σ' ≤ 1/4)
        hidden = 1 + absX @ np.abs(first["W"]).T + np.abs(first["b"])
        return data, np.mean(np.sum(hidden @ np.abs(last["W"]).T + np.abs(last["b"]) + 1, axis=1))
    w, b = params["w"], params["b"]
    z, size = X @ w + b, (absX @ np.abs(w) + np.abs(b)).reshape(X.shape[0], -1)
    if model == "logistic":
        return np.mean(_softplus(z) - y * z), np.mean(size + 1)
    if model == "softmax":
        top = z.max(axis=1)
        lse = top + np.log(np.sum(np.exp(z - top[:, None]), axis=1))
        return np.mean(lse - z[np.arange(len(y)), y]), np.mean(np.sum(size + 1, axis=1))
    r, absy = (z - y).reshape(X.shape[0], -1), np.abs(y).reshape(X.shape[0], -1)
    return np.sum(r**2) / 2 / X.shape[0], np.mean(np.sum(np.abs(r) * (size + absy), axis=1))


def _cost_problem(model, m, n, k, x_scale, w_scale, rng):
    """(cost, params, X, y) in numpy, y of the model's kind."""
    X = rng.normal(size=(m, n)) * x_scale
    if model == "neural_network":
        shapes = [(4, n), (k, 4)]
        params = [{"W": rng.normal(size=s) * w_scale, "b": rng.normal(size=s[0])} for s in shapes]
        return costs.neural_network, params, X, np.eye(k)[rng.integers(0, k, m)]
    out = {"linear": (), "linear_k": (k,), "logistic": (), "softmax": (k,)}[model]
    params = {"w": rng.normal(size=(n, *out)) * w_scale, "b": rng.normal(size=out)}
    if model == "softmax":
        return costs.softmax_regression, params, X, rng.integers(0, k, m)
    if model == "logistic":
        return costs.logistic_regression, params, X, rng.integers(0, 2, m).astype(float)
    return costs.linear_regression, params, X, rng.normal(size=(m, *out)) * x_scale * w_scale


@pytest.mark.parametrize("dtype", ("float32", "float64"))
@given(
    model=st.sampled_from(("linear", "linear_k", "logistic", "softmax", "neural_network")),
    m=st.sampled_from((1, 5)),
    n=st.sampled_from((1, 3)),
    k=st.sampled_from((2, 3)),
    x_exp=st.integers(-3, 4),
    w_exp=st.integers(-2, 2),
    lams=st.lists(st.just(0.0) | st.floats(1e-3, 1e3), min_size=3, max_size=3),
    seed=SEEDS,
)
def test_costs_are_finite_batch_over_lambda_and_equal_numpy(
    dtype, model, m, n, k, x_exp, w_exp, lams, seed
):
    rng = np.random.default_rng(seed)
    cost, params, X, y = _cost_problem(model, m, n, k, 10.0**x_exp, 10.0**w_exp, rng)
    with _x64(dtype):
        cast = lambda t: jax.tree.map(lambda x: jnp.asarray(x, dtype), t)  # noqa: E731
        jparams, jX, grid = cast(params), jnp.asarray(X, dtype), jnp.asarray(lams, dtype)
        jy = jnp.asarray(y) if model == "softmax" else jnp.asarray(y, dtype)
        batched = jax.vmap(lambda lam: cost(jparams, jX, jy, lam))(grid)
        looped = np.array([float(cost(jparams, jX, jy, lam)) for lam in grid])
    assert batched.dtype == jnp.dtype(dtype) and np.all(np.isfinite(looped))
    u = _u(dtype)
    np.testing.assert_allclose(_np(batched), looped, rtol=4 * u)
    rounded = jax.tree.map(_np, jparams)  # the inputs as the library saw them
    data, magnitude = numpy_cost(model, rounded, _np(jX), np.asarray(jy).astype(y.dtype))
    weights = [layer["W"] for layer in rounded] if model == "neural_network" else [rounded["w"]]
    squares = sum(np.sum(W**2) for W in weights)
    for lam, got in zip(_np(grid), looped):
        pen = lam * squares / (2 * m)
        # inner products of n + 4 terms at most, the loss (Lipschitz in z), a few more
        assert abs(got - (data + pen)) <= 16 * (n + 8) * u * (magnitude + pen + abs(data))


# ---------------------------------------------------------------------------------------
# λ grids: sweep equals a loop; the exact ridge path equals numpy


def _ridge_fit(lam, X, y):
    return closed_form.ridge_solution(X, y, lam)


grid_values = st.just(0.0) | st.sampled_from((0.1, 1.0, 10.0)) | st.floats(0.0, 1e4)
# three grid lengths (one compilation each): one λ, fewer λ's than devices, more
grids = st.sampled_from((1, 5, 11)).flatmap(lambda g: st.lists(grid_values, min_size=g, max_size=g))


@given(lams=grids, seed=SEEDS)
def test_sweep_over_lambda_equals_a_python_loop(x64, lams, seed):
    """Duplicates and zeros included; the grid is padded and sharded over 8 devices."""
    rng = np.random.default_rng(seed)
    X, y = jnp.asarray(rng.normal(size=(10, 3))), jnp.asarray(rng.normal(size=10))
    out = rj.sweep(_ridge_fit, jnp.asarray(lams), X, y)
    for i, lam in enumerate(lams):
        one = _ridge_fit(lam, X, y)
        np.testing.assert_allclose(out["w"][i], one["w"], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(out["b"][i], one["b"], rtol=1e-10, atol=1e-12)


@given(
    shape=st.sampled_from(((6, 3), (3, 5))),  # tall and wide
    k=st.sampled_from((None, 2)),
    scale=st.sampled_from((1e-100, 1e-8, 1e-3, 1.0, 1e3, 1e8, 1e100)),
    rel_lams=st.lists(st.floats(1e-3, 1e3), min_size=3, max_size=3),
    with_zero=st.booleans(),
    seed=SEEDS,
)
def test_ridge_path_equals_numpy_normal_equations(x64, shape, k, scale, rel_lams, with_zero, seed):
    """Random small problems, X scaled from 1e-100 to 1e100 (λ with it, as scale²)."""
    rng = np.random.default_rng(seed)
    (m, n), out = shape, (() if k is None else (k,))
    X, y = rng.normal(size=(m, n)) * scale, rng.normal(size=(m, *out))
    lams = [r * scale**2 for r in rel_lams]
    if with_zero and m - 1 >= n:  # centred X has rank min(m − 1, n): λ = 0 where unique
        lams[0] = 0.0
    path = paths.ridge(X, y, np.asarray(lams))
    assert bool(path.converged.all())
    Xc, yc = X - X.mean(0), y - y.mean(0)
    for i, lam in enumerate(lams):
        A = Xc.T @ Xc + lam * np.eye(n)
        w = np.linalg.solve(A, Xc.T @ yc)
        tol = 100 * U64 * np.linalg.cond(A) * np.max(np.abs(w))
        np.testing.assert_allclose(path.params["w"][i], w, rtol=0, atol=tol)
        b = y.mean(0) - X.mean(0) @ w
        x_mean, y_max = np.sum(np.abs(X.mean(0))), np.max(np.abs(y))
        b_tol = x_mean * (tol + 100 * U64 * np.max(np.abs(w))) + 100 * U64 * y_max
        np.testing.assert_allclose(path.params["b"][i], b, rtol=0, atol=b_tol)


# ---------------------------------------------------------------------------------------
# bad input raises, naming the argument


# NaN, ±inf and negative numbers of float32's normal range (beyond it:
# test_a_grid_is_checked_before_its_cast_to_the_default_float)
bad_numbers = st.sampled_from((math.nan, math.inf, -math.inf)) | st.floats(-1e30, -1e-30)


def bad_penalty_lam(data):
    tree, penalty = data.draw(trees()), data.draw(st.sampled_from(PENALTIES))
    grad = data.draw(st.booleans())  # the penalty or its closed-form gradient
    fn = getattr(closed_form, f"{penalty}_grad") if grad else getattr(penalties, penalty)
    bad = data.draw(bad_numbers)
    lam = bad
    if data.draw(st.booleans()):  # one bad leaf of a per-leaf λ
        lams = [1.0] * len(jax.tree.leaves(tree))
        lams[data.draw(st.integers(0, len(lams) - 1))] = bad
        lam = jax.tree.unflatten(jax.tree.structure(tree), lams)
    kw = {"l1_ratio": 0.5} if penalty == "elastic_net" else {}
    params = jax.tree.map(jnp.asarray, tree)
    return (lambda: fn(params, lam, m=3, **kw)), "lam"


def bad_penalty_mask(data):
    tree = data.draw(trees())
    flags = [True] * len(jax.tree.leaves(tree))
    how = data.draw(st.sampled_from(("wrapped", "deeper", "int")))
    i = data.draw(st.integers(0, len(flags) - 1))
    if how == "deeper":
        flags[i] = [True, False]
    elif how == "int":
        flags[i] = 1
    mask = jax.tree.unflatten(jax.tree.structure(tree), flags)
    mask = [mask, True] if how == "wrapped" else mask
    params = jax.tree.map(jnp.asarray, tree)
    if data.draw(st.booleans()):  # a penalty, or the same mask in a transform's update
        return (lambda: penalties.l2(params, 1.0, m=3, mask=mask)), "mask"
    tx = transforms.add_l2_gradient(1.0, m=3, mask=mask)
    return (lambda: tx.update(params, tx.init(params), params)), "mask"


def _glm_problem(data):
    rng = np.random.default_rng(data.draw(SEEDS))
    model = data.draw(st.sampled_from(("linear", "logistic", "softmax", "neural_network")))
    cost, params, X, y = _cost_problem(model, 4, 3, 2, 1.0, 1.0, rng)
    grad = getattr(closed_form, f"{cost.__name__}_grad")
    fn = data.draw(st.sampled_from((cost, grad)))
    return model, fn, jax.tree.map(jnp.asarray, params), X, y


def bad_cost_data(data):
    model, fn, params, X, y = _glm_problem(data)
    target = "X" if model == "softmax" else data.draw(st.sampled_from(("X", "y")))
    bad = data.draw(st.sampled_from((math.nan, math.inf, -math.inf)))
    arr = (X if target == "X" else y).copy()
    arr[np.unravel_index(data.draw(st.integers(0, arr.size - 1)), arr.shape)] = bad
    X, y = (arr, y) if target == "X" else (X, arr)
    name = "Y" if target == "y" and model == "neural_network" else target
    return (lambda: fn(params, X, y, 1.0)), name


def bad_cost_lam(data):
    _, fn, params, X, y = _glm_problem(data)
    lam = data.draw(bad_numbers)
    return (lambda: fn(params, X, y, lam)), "lam"


def bad_grid(data):
    rng = np.random.default_rng(data.draw(SEEDS))
    X, y = rng.normal(size=(5, 2)), rng.normal(size=5)
    bad = data.draw(bad_numbers)
    lams = list(rng.uniform(0.0, 10.0, data.draw(st.integers(1, 5))))
    lams[data.draw(st.integers(0, len(lams) - 1))] = bad
    which = data.draw(st.sampled_from(("paths.ridge", "ridge_path", "sweep", "ridge_solution")))
    if which == "ridge_solution":
        return (lambda: closed_form.ridge_solution(X, y, bad)), "lam"
    if which == "sweep":
        return (lambda: rj.sweep(_ridge_fit, np.asarray(lams), X, y)), "lams"
    fn = paths.ridge if which == "paths.ridge" else closed_form.ridge_path
    return (lambda: fn(X, y, np.asarray(lams))), "lams"


def bad_transform_hyperparameter(data):
    bad = data.draw(bad_numbers)
    name = data.draw(st.sampled_from(("lam", "m", "rate", "learning_rate")))
    ok = {"lam": 1.0, "m": 10, "rate": 0.1, "learning_rate": 0.1, name: bad}
    lam, m, rate, lr = ok["lam"], ok["m"], ok["rate"], ok["learning_rate"]
    make = {
        "lam": lambda: transforms.add_l2_gradient(lam, m=m),
        "m": lambda: transforms.prox_l1(lam, m=m, learning_rate=lr),
        "rate": lambda: transforms.decoupled_weight_decay(rate, learning_rate=lr),
        "learning_rate": lambda: transforms.prox_l1(lam, m=m, learning_rate=lr),
    }
    return make[name], name


def bad_convention_value(data):
    a, b = data.draw(st.sampled_from(NAMES)), data.draw(st.sampled_from(NAMES))
    value = data.draw(bad_numbers.filter(lambda v: not (a == "sklearn_logreg_C" and v > 0)))
    kw = {"m": 10, "n": 3, "learning_rate": 0.1}
    return (lambda: rj.convert_lambda(value, from_=a, to=b, **kw)), "value"


def bad_prox_argument(data):
    x = jnp.asarray(np.random.default_rng(data.draw(SEEDS)).normal(size=4))
    bad = data.draw(bad_numbers)
    ratio = data.draw(st.sampled_from((-0.5, 1.5, math.nan)))
    return data.draw(
        st.sampled_from(
            (
                ((lambda: prox.soft_threshold(x, bad)), "threshold"),
                ((lambda: prox.elastic_net(x, bad, l1_ratio=0.5)), "strength"),
                ((lambda: prox.elastic_net(x, 1.0, l1_ratio=ratio)), "l1_ratio"),
            )
        )
    )


BAD_INPUTS = (
    bad_penalty_lam,
    bad_penalty_mask,
    bad_cost_data,
    bad_cost_lam,
    bad_grid,
    bad_transform_hyperparameter,
    bad_convention_value,
    bad_prox_argument,
)


@pytest.mark.parametrize("build", BAD_INPUTS, ids=lambda f: f.__name__)
@given(data=st.data())
def test_bad_random_input_raises_naming_the_argument(build, data):
    call, name = build(data)
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert re.search(rf"(?<![\w.]){re.escape(name)}\b", str(info.value)), str(info.value)


@pytest.mark.parametrize("bad", [-1e39, -1e-300])
def test_a_grid_is_checked_before_its_cast_to_the_default_float(bad):
    X, y = np.eye(3), np.arange(3.0)
    with pytest.raises(ValueError, match="lams must be >= 0"):
        paths.ridge(X, y, np.array([1.0, bad]))


def test_a_bfloat16_lam_is_a_real_number():
    params = {"w": jnp.ones(3, jnp.bfloat16)}
    got = penalties.l2(params, jnp.asarray(2.0, jnp.bfloat16), m=3)  # 2/(2·3)·3
    assert float(got) == 1.0 and got.dtype == jnp.bfloat16
