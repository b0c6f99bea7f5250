"""Closed-form cost gradients (three witnesses) and the ridge solution and path.

Each built-in cost's hand-derived gradient is held against ``jax.grad`` (rtol 1e-10),
against central differences through ``rj.check_grad`` (rtol 1e-6) and through
``jax.test_util.check_grads`` — for autodiff and for the closed form wrapped in a
``jax.custom_vjp`` — on random problems drawn by hypothesis. The ridge solutions are
compared with an independent numpy least-squares solve, the ridge path and its exact
leave-one-out and GCV errors with scikit-learn, the explicit hat matrix and brute-force
refits; at every shape (each route of the factorization) with numpy's SVD, and on
ill-conditioned X with the exact answer in rational arithmetic.
"""

from __future__ import annotations

from fractions import Fraction

import jax
import jax.numpy as jnp
import jax.test_util
import numpy as np
import pytest
from _witnesses import assert_three_witnesses, assert_trees_close
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Ridge, RidgeCV

import regjax as rj
from regjax import _ridge, closed_form, costs, data, losses, models, penalties

LAMS = st.one_of(st.just(0.0), st.sampled_from((0.05, 0.7, 3.0, 25.0)))
SEEDS = st.integers(0, 2**32 - 1)
COSTS = ("linear_regression", "logistic_regression", "softmax_regression", "neural_network")
# jitted once per module: a new problem shape costs one compilation, not one per primitive
JITTED = {
    name: (jax.jit(getattr(costs, name)), jax.jit(getattr(closed_form, f"{name}_grad")))
    for name in COSTS
}


# ---------------------------------------------------------------------------------------
# helpers


def _normal(rng, *shape):
    return jnp.asarray(rng.normal(size=shape))


# ---------------------------------------------------------------------------------------
# three witnesses for every built-in cost


@settings(max_examples=3)
@given(
    m=st.sampled_from((1, 6)),
    n=st.sampled_from((1, 3)),
    k=st.sampled_from((None, 2)),
    lam=LAMS,
    seed=SEEDS,
)
def test_linear_regression_grad(x64, m, n, k, lam, seed):
    rng = np.random.default_rng(seed)
    out = () if k is None else (k,)
    X, y = _normal(rng, m, n), _normal(rng, m, *out)
    params = {"w": _normal(rng, n, *out), "b": _normal(rng, *out)}
    # the closed form written out here, independently: (1/m)Xᵀ(h − y) + (λ/m)w
    r = np.asarray(X) @ np.asarray(params["w"]) + np.asarray(params["b"]) - np.asarray(y)
    expected = {
        "w": np.asarray(X).T @ r / m + lam * np.asarray(params["w"]) / m,
        "b": np.sum(r, axis=0) / m,
    }
    assert_trees_close(closed_form.linear_regression_grad(params, X, y, lam), expected, 1e-12)
    assert_three_witnesses(*JITTED["linear_regression"], params, X, y, lam)


@settings(max_examples=3)
@given(m=st.sampled_from((1, 6)), n=st.sampled_from((1, 3)), lam=LAMS, seed=SEEDS)
def test_logistic_regression_grad(x64, m, n, lam, seed):
    rng = np.random.default_rng(seed)
    X = _normal(rng, m, n)
    y = jnp.asarray(rng.integers(0, 2, m).astype(np.float64))
    params = {"w": _normal(rng, n), "b": _normal(rng)}
    assert_three_witnesses(*JITTED["logistic_regression"], params, X, y, lam)


@settings(max_examples=3)
@given(
    m=st.sampled_from((1, 6)),
    n=st.sampled_from((1, 3)),
    k=st.sampled_from((2, 3)),
    lam=LAMS,
    seed=SEEDS,
)
def test_softmax_regression_grad(x64, m, n, k, lam, seed):
    rng = np.random.default_rng(seed)
    X = _normal(rng, m, n)
    labels = jnp.asarray(rng.integers(0, k, m))
    params = {"w": _normal(rng, n, k), "b": _normal(rng, k)}
    assert_three_witnesses(*JITTED["softmax_regression"], params, X, labels, lam)


@settings(max_examples=4)
@given(
    m=st.sampled_from((1, 5)),
    n=st.just(3),
    k=st.sampled_from((1, 3)),
    hidden=st.sampled_from(((), (4,), (3, 2))),
    lam=LAMS,
    seed=SEEDS,
)
def test_neural_network_grad(x64, m, n, k, hidden, lam, seed):
    rng = np.random.default_rng(seed)
    X = _normal(rng, m, n)
    Y = jnp.asarray(np.eye(k)[rng.integers(0, k, m)])
    params = models.init_mlp(jax.random.key(seed % 2**31), (n, *hidden, k), dtype=jnp.float64)
    # larger weights than the initialization: saturating units test the σ' factors too
    params = jax.tree.map(lambda p: 2.0 * p, params)
    assert_three_witnesses(*JITTED["neural_network"], params, X, Y, lam)


def test_neural_network_grad_matches_a_numpy_backprop(x64, rng):
    """Ng's ex4 backpropagation written out in numpy with the bias column of Θ."""
    m, sizes, lam = 6, (3, 4, 2), 1.5
    X = rng.normal(size=(m, sizes[0]))
    Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], m)]
    thetas = [rng.normal(size=(o, i + 1)) for i, o in zip(sizes[:-1], sizes[1:])]
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    a = [X]
    for theta in thetas:
        a.append(sigmoid(np.column_stack([np.ones(m), a[-1]]) @ theta.T))
    delta = a[-1] - Y
    grads = []
    for theta, act in zip(reversed(thetas), reversed(a[:-1])):
        act1 = np.column_stack([np.ones(m), act])
        reg = lam / m * np.column_stack([np.zeros(theta.shape[0]), theta[:, 1:]])
        grads.append(delta.T @ act1 / m + reg)
        delta = (delta @ theta[:, 1:]) * act * (1 - act)
    grads = grads[::-1]
    params = [{"W": jnp.asarray(t[:, 1:]), "b": jnp.asarray(t[:, 0])} for t in thetas]
    got = closed_form.neural_network_grad(params, jnp.asarray(X), jnp.asarray(Y), lam)
    for g, expected in zip(got, grads):
        np.testing.assert_allclose(g["W"], expected[:, 1:], rtol=1e-12)
        np.testing.assert_allclose(g["b"], expected[:, 0], rtol=1e-12)


@pytest.mark.parametrize(
    ("penalty", "scale"), [("l2", "per_param"), ("l1", "per_example"), ("elastic_net", "sum")]
)
def test_regularized_builder(x64, rng, penalty, scale):
    """regularized(mean loss, penalty) = data gradient + the penalty's closed form."""

    def data_cost(p, X, y):
        return losses.squared_error(models.linear(p, X), y)

    kw = {"l1_ratio": 0.4} if penalty == "elastic_net" else {}
    cost = costs.regularized(data_cost, penalty=penalty, scale=scale, **kw)

    def closed(p, X, y, lam):
        data = closed_form.linear_regression_grad(p, X, y, 0.0)
        fn = getattr(closed_form, f"{penalty}_grad")
        pen = fn(p, lam, m=X.shape[0], scale=scale, **kw)
        return jax.tree.map(jnp.add, data, pen)

    X, y = _normal(rng, 7, 3), _normal(rng, 7)
    params = {"w": jnp.asarray([0.5, -1.2, 2.0]), "b": jnp.asarray(0.3)}
    assert_three_witnesses(cost, closed, params, X, y, 0.8)
    # the default is the library convention: regularized(..., "l2") is linear_regression
    np.testing.assert_allclose(
        float(costs.regularized(data_cost)(params, X, y, 0.8)),
        float(costs.linear_regression(params, X, y, 0.8)),
        rtol=1e-15,
    )


# ---------------------------------------------------------------------------------------
# ridge


def _ridge_lstsq(X, y, lam):
    """min ‖Xw + b − y‖² + λ‖w‖² as least squares on [X 1; √λ·I 0], in numpy."""
    m, n = X.shape
    A = np.block([[X, np.ones((m, 1))], [np.sqrt(lam) * np.eye(n), np.zeros((n, 1))]])
    rhs = np.concatenate([y, np.zeros((n, *y.shape[1:]))])
    sol = np.linalg.lstsq(A, rhs, rcond=None)[0]
    return sol[:n], sol[n]


def _problem(rng, m=30, n=4, k=None):
    X = rng.normal(size=(m, n)) + rng.normal(size=n)  # non-centred columns
    out = () if k is None else (k,)
    y = X @ rng.normal(size=(n, *out)) + 1.5 + 0.3 * rng.normal(size=(m, *out))
    return X, y


@pytest.mark.parametrize("k", [None, 2])
@pytest.mark.parametrize("lam", [0.0, 0.5, 20.0])
def test_ridge_solution_zeroes_the_gradient_and_matches_numpy(x64, rng, lam, k):
    X, y = _problem(rng, k=k)
    sol = closed_form.ridge_solution(jnp.asarray(X), jnp.asarray(y), lam)
    w, b = _ridge_lstsq(X, y, lam)
    np.testing.assert_allclose(sol["w"], w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sol["b"], b, rtol=1e-10, atol=1e-12)

    zero = jax.tree.map(jnp.zeros_like, sol)
    g0 = jax.grad(costs.linear_regression)(zero, jnp.asarray(X), jnp.asarray(y), lam)
    g = jax.grad(costs.linear_regression)(sol, jnp.asarray(X), jnp.asarray(y), lam)
    scale = max(float(jnp.max(jnp.abs(x))) for x in jax.tree.leaves(g0))
    for leaf in jax.tree.leaves(g):
        assert float(jnp.max(jnp.abs(leaf))) <= 1e-10 * scale


def test_ridge_solution_under_duplicated_data(x64, rng):
    """Duplicating the data r times (m → r·m) with Ng's λ/(2m).

    m itself does not appear in the normal equations, but XᵀX grows r-fold while λ
    does not: the same λ is weaker regularization. What stays put is λ/m (the
    coefficient of ½‖w‖² on the mean loss, "mean_l2"): λ → r·λ gives the same minimizer.
    At λ = 0 the minimizer does not depend on m at all.
    """
    X, y = _problem(rng)
    Xj, yj = jnp.asarray(X), jnp.asarray(y)
    lam = 3.0
    once = closed_form.ridge_solution(Xj, yj, lam)
    for r in (2, 5):
        Xd, yd = jnp.asarray(np.tile(X, (r, 1))), jnp.asarray(np.tile(y, r))
        assert_trees_close(closed_form.ridge_solution(Xd, yd, r * lam), once, 1e-10)
        assert_trees_close(
            closed_form.ridge_solution(Xd, yd, lam),
            closed_form.ridge_solution(Xj, yj, lam / r),
            1e-10,
        )
        same_lam = closed_form.ridge_solution(Xd, yd, lam)
        assert float(jnp.max(jnp.abs(same_lam["w"] - once["w"]))) > 1e-4  # it does move
        assert_trees_close(
            closed_form.ridge_solution(Xd, yd, 0.0), closed_form.ridge_solution(Xj, yj, 0.0), 1e-10
        )
        # numpy: the r-fold data set with λ·r is the same least-squares problem
        w, b = _ridge_lstsq(np.tile(X, (r, 1)), np.tile(y, r), r * lam)
        np.testing.assert_allclose(once["w"], w, rtol=1e-9)
        np.testing.assert_allclose(once["b"], b, rtol=1e-9)
    # convert_lambda says the same: equal "mean_l2" coefficients λ/m ⇔ equal minimizers
    c_once = rj.convert_lambda(lam, from_="ng", to="mean_l2", m=X.shape[0])
    c_twice = rj.convert_lambda(2 * lam, from_="ng", to="mean_l2", m=2 * X.shape[0])
    np.testing.assert_allclose(float(c_once), float(c_twice), rtol=1e-15)


@pytest.mark.parametrize("k", [None, 3])
def test_ridge_path_equals_a_loop_of_ridge_solution(x64, rng, k):
    X, y = _problem(rng, m=20, n=5, k=k)
    lams = np.array([0.0, 0.01, 0.3, 1.0, 10.0, 300.0])
    path = closed_form.ridge_path(jnp.asarray(X), jnp.asarray(y), jnp.asarray(lams))
    out = () if k is None else (k,)
    assert path["w"].shape == (len(lams), 5, *out)
    assert path["b"].shape == (len(lams), *out)
    for i, lam in enumerate(lams):
        sol = closed_form.ridge_solution(jnp.asarray(X), jnp.asarray(y), float(lam))
        assert_trees_close({"w": path["w"][i], "b": path["b"][i]}, sol, 1e-10)
    # ... and a vmap of ridge_solution over a traced λ, under jit
    batched = jax.jit(jax.vmap(closed_form.ridge_solution, in_axes=(None, None, 0)))(
        jnp.asarray(X), jnp.asarray(y), jnp.asarray(lams)
    )
    assert_trees_close(batched, path, 1e-10)


def test_ridge_path_rank_deficient_at_lambda_zero_is_the_minimum_norm_solution(x64, rng):
    """Collinear columns, λ = 0: finite, and the minimum-norm least-squares solution."""
    base = rng.normal(size=(15, 3))
    X = np.column_stack([base, base[:, 0] + base[:, 1], 2.0 * base[:, 2]])  # rank 3 of 5
    y = rng.normal(size=15)
    path = closed_form.ridge_path(jnp.asarray(X), jnp.asarray(y), jnp.asarray([0.0, 1.0]))
    assert all(bool(jnp.all(jnp.isfinite(x))) for x in jax.tree.leaves(path))
    Xc, yc = X - X.mean(0), y - y.mean()
    w = np.linalg.lstsq(Xc, yc, rcond=None)[0]  # minimum norm
    np.testing.assert_allclose(path["w"][0], w, rtol=1e-9)
    np.testing.assert_allclose(path["b"][0], y.mean() - X.mean(0) @ w, rtol=1e-9)
    # λ > 0 is well posed whatever the rank: the path agrees with numpy there too
    w1, b1 = _ridge_lstsq(X, y, 1.0)
    np.testing.assert_allclose(path["w"][1], w1, rtol=1e-9)
    np.testing.assert_allclose(path["b"][1], b1, rtol=1e-9)
    # and the solution at λ = 0 is a stationary point of the cost
    sol = {"w": path["w"][0], "b": path["b"][0]}
    g = jax.grad(costs.linear_regression)(sol, jnp.asarray(X), jnp.asarray(y), 0.0)
    assert max(float(jnp.max(jnp.abs(x))) for x in jax.tree.leaves(g)) < 1e-10


def test_ridge_solution_rank_deficient_at_lambda_zero_is_the_minimum_norm_fit(x64, rng):
    base = rng.normal(size=(10, 2))
    X = np.column_stack([base, base[:, 0]])
    y = rng.normal(size=10)
    sol = closed_form.ridge_solution(jnp.asarray(X), jnp.asarray(y), 0.0)
    assert all(bool(jnp.all(jnp.isfinite(x))) for x in jax.tree.leaves(sol))
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    expected = np.linalg.pinv(Xc) @ yc  # numpy's minimum-norm least squares
    np.testing.assert_allclose(sol["w"], expected, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(sol["b"], y.mean() - X.mean(axis=0) @ expected, rtol=1e-8)


def test_ridge_path_matches_sklearn_ridge(x64):
    d = data.load_diabetes()
    lams = np.logspace(-3, 4, 15)
    path = closed_form.ridge_path(d.X, d.y, lams)
    for g, lam in enumerate(lams):
        model = Ridge(alpha=lam, solver="svd").fit(d.X, d.y)  # α = λ (ng → sklearn: λ/m·m)
        np.testing.assert_allclose(path["w"][g], model.coef_, rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(path["b"][g], model.intercept_, rtol=1e-8)


def test_ridge_loo_matches_sklearn_ridgecv_and_brute_force(x64):
    d = data.make_regression(40, 5, seed=8, noise=0.5)
    lams = np.logspace(-2, 2, 6)
    loo, _ = closed_form.ridge_loo_gcv(d.X, d.y, lams)
    cv = RidgeCV(alphas=lams, store_cv_results=True).fit(d.X, d.y)
    np.testing.assert_allclose(loo, cv.cv_results_.mean(axis=0), rtol=1e-9)
    errors = []
    for i in range(40):
        keep = np.arange(40) != i
        model = Ridge(alpha=lams[2], solver="cholesky").fit(d.X[keep], d.y[keep])
        errors.append((model.predict(d.X[i : i + 1])[0] - d.y[i]) ** 2)
    np.testing.assert_allclose(loo[2], np.mean(errors), rtol=1e-9)


def test_ridge_gcv_matches_the_explicit_hat_matrix(x64):
    d = data.make_regression(30, 4, seed=9)
    lams = np.array([0.1, 3.0, 50.0])
    _, gcv = closed_form.ridge_loo_gcv(d.X, d.y, lams)
    A = np.c_[np.ones(30), d.X]
    for g, lam in enumerate(lams):
        H = A @ np.linalg.solve(A.T @ A + np.diag([0.0] + [lam] * 4), A.T)
        e = d.y - H @ d.y
        np.testing.assert_allclose(gcv[g], np.mean(e**2) / (1 - np.trace(H) / 30) ** 2, rtol=1e-9)


# ---------------------------------------------------------------------------------------
# the factorization by shape: QR of [X̃ ỹ] (m ≥ n + k), QR of X̃ᵀ (n > m), else the SVD


def _svd_path(X, y, lams):
    """The ridge path from numpy's thin SVD of the centred X, written out here."""
    Xc, yc = X - X.mean(0), y - y.mean(0)
    U, s, Vt = np.linalg.svd(Xc, full_matrices=False)
    keep = s > np.finfo(float).eps * max(X.shape) * s[0]
    shrink = np.where(keep, s / np.where(keep, s**2 + lams[:, None], 1), 0)  # (G, r)
    w = np.einsum("gr,r...,rn->gn...", shrink, U.T @ yc, Vt)
    return w, y.mean(0) - np.einsum("gn...,n->g...", w, X.mean(0))


SHAPES = {  # (m, n, k): every route, and both ways the wide one applies V (G·k vs m)
    "tall": (200, 12, None),
    "tall_k": (200, 12, 3),
    "wide_dual": (12, 200, None),  # G·k = 7 < m: w = X̃ᵀα
    "wide_v": (12, 200, 2),  # G·k = 14 ≥ m: V = X̃ᵀU/s formed once
    "square": (8, 8, None),
    "svd_k": (9, 8, 2),  # n ≤ m < n + k
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_ridge_path_equals_the_svd_path_at_every_shape(x64, rng, shape):
    m, n, k = SHAPES[shape]
    X, y = _problem(rng, m=m, n=n, k=k)
    lams = np.array([0.0, 1e-3, 0.1, 1.0, 10.0, 1e3, 1e6])
    path = closed_form.ridge_path(jnp.asarray(X), jnp.asarray(y), jnp.asarray(lams))
    w, b = _svd_path(X, y, lams)
    diff = np.abs(np.asarray(path["w"]) - w).reshape(len(lams), -1)
    assert np.all(diff <= 1e-10 * np.max(np.abs(w).reshape(len(lams), -1), axis=1)[:, None])
    np.testing.assert_allclose(path["b"], b, rtol=1e-10, atol=1e-10 * np.max(np.abs(b)))


@pytest.mark.parametrize("shape", ["tall", "wide_dual", "wide_v", "square"])
@pytest.mark.parametrize("c", [1e-150, 1e150])
def test_ridge_path_neither_overflows_nor_underflows_at_any_scale(x64, rng, shape, c):
    """w(cX, y, c²λ) = w(X, y, λ)/c exactly in arithmetic; s² would leave the float64
    range at c = 1e±150, the route's 1/(s + λ/s) and s_max scaling do not."""
    m, n, k = SHAPES[shape]
    X, y = _problem(rng, m=m, n=n, k=k)
    lams = np.array([0.0, 0.1, 1.0, 10.0, 1e3, 1e4, 1e5])
    path = closed_form.ridge_path(jnp.asarray(X), jnp.asarray(y), jnp.asarray(lams))
    scaled = closed_form.ridge_path(jnp.asarray(c * X), jnp.asarray(y), jnp.asarray(c**2 * lams))
    np.testing.assert_allclose(np.asarray(scaled["w"]) * c, path["w"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(scaled["b"], path["b"], rtol=1e-9, atol=1e-12)


def _exact_solve(A, B):
    """A⁻¹B in exact rational arithmetic (Gauss–Jordan; A square, B a list of columns)."""
    n = len(A)
    rows = [list(A[i]) + [col[i] for col in B] for i in range(n)]
    for c in range(n):
        pivot = next(r for r in range(c, n) if rows[r][c] != 0)
        rows[c], rows[pivot] = rows[pivot], rows[c]
        rows[c] = [v / rows[c][c] for v in rows[c]]
        for r in range(n):
            if r != c and rows[r][c] != 0:
                rows[r] = [a - rows[r][c] * b for a, b in zip(rows[r], rows[c])]
    return [[rows[i][n + j] for i in range(n)] for j in range(len(B))]  # columns


def _exact_ridge(X, y, lams):
    """w and the LOO error of every λ, exactly: float64 inputs are binary fractions, so
    the normal equations (on the smaller side, the dual X̃ᵀ(X̃X̃ᵀ + λI)⁻¹ỹ when n > m)
    are solved without round-off, then rounded once."""
    m, n = X.shape
    rows = [[Fraction(v) for v in row] for row in X]
    mean = [sum(col) / m for col in zip(*rows)]
    Xc = [[v - mu for v, mu in zip(row, mean)] for row in rows]
    yc = [Fraction(v) for v in y]
    yc = [v - sum(yc) / m for v in yc]
    cols = list(zip(*Xc))

    def dot(a, b):
        return sum(p * q for p, q in zip(a, b))

    def eye(k):
        return [[int(i == j) for i in range(k)] for j in range(k)]

    ws, loos = [], []
    for lam in map(Fraction, map(float, lams)):
        if m >= n:  # (X̃ᵀX̃ + λI)w = X̃ᵀỹ; H = X̃(X̃ᵀX̃ + λI)⁻¹X̃ᵀ
            A = [
                [dot(a, b) + lam * (i == j) for j, b in enumerate(cols)] for i, a in enumerate(cols)
            ]
            w, *inv = _exact_solve(A, [[dot(c, yc) for c in cols], *eye(n)])
            hat = [dot(r, [dot(row, r) for row in inv]) for r in Xc]
        else:  # α = (X̃X̃ᵀ + λI)⁻¹ỹ, w = X̃ᵀα; H = X̃X̃ᵀ(X̃X̃ᵀ + λI)⁻¹
            K = [[dot(a, b) for b in Xc] for a in Xc]
            alpha, *inv = _exact_solve(
                [[v + lam * (i == j) for j, v in enumerate(row)] for i, row in enumerate(K)],
                [yc, *eye(m)],
            )
            w = [dot(alpha, c) for c in cols]
            hat = [dot(K[i], inv[i]) for i in range(m)]  # inv[i]: column i of the inverse
        e = [t - dot(r, w) for r, t in zip(Xc, yc)]
        loo = sum((ei / (1 - Fraction(1, m) - h)) ** 2 for ei, h in zip(e, hat)) / m
        ws.append([float(v) for v in w])
        loos.append(float(loo))
    return np.array(ws), np.array(loos)


def _ill_conditioned(rng, m, n, kappa):
    """(m, n) with singular values from 1 down to 1/κ, log-spaced, after centring."""
    short, long = sorted((m, n))
    U = np.linalg.qr(rng.normal(size=(long, short)))[0]
    U = np.linalg.qr(U - U.mean(axis=0))[0]  # columns orthogonal to the ones vector
    V = np.linalg.qr(rng.normal(size=(short, short)))[0]
    X = (U * np.logspace(0, -np.log10(kappa), short)) @ V.T
    return (X if m >= n else X.T) + 1.0


def _gram_path(X, y, lams):
    """The path from numpy's eigendecomposition of the Gram matrix on the smaller side
    (X̃ᵀX̃ when m ≥ n, X̃X̃ᵀ and the dual when n > m): what ridge_path does not do."""
    Xc, yc = X - X.mean(0), y - y.mean()
    if X.shape[0] >= X.shape[1]:
        e, V = np.linalg.eigh(Xc.T @ Xc)
        return ((V.T @ (Xc.T @ yc)) / (e + lams[:, None])) @ V.T
    e, U = np.linalg.eigh(Xc @ Xc.T)
    return (((U.T @ yc) / (e + lams[:, None])) @ U.T) @ Xc


@pytest.mark.parametrize("kappa", [1e8, 1e10])
@pytest.mark.parametrize("shape", [(48, 5), (5, 48)])
def test_ridge_path_keeps_the_svds_accuracy_on_ill_conditioned_x(x64, rng, shape, kappa):
    """Against the exact answer, the QR routes are as accurate as a thin SVD of X̃ (both
    backward stable); the Gram matrix's eigendecomposition squares κ and is not."""
    m, n = shape
    X = _ill_conditioned(rng, m, n, kappa)
    y = X @ rng.normal(size=n) + 1e-3 * rng.normal(size=m)
    lams = np.array([1e-20, 1e-14, 1e-8, 1e-2])
    exact, exact_loo = _exact_ridge(X, y, lams)
    path = closed_form.ridge_path(jnp.asarray(X), jnp.asarray(y), jnp.asarray(lams))
    loo, _ = closed_form.ridge_loo_gcv(jnp.asarray(X), jnp.asarray(y), jnp.asarray(lams))

    def error(w):
        return np.max(np.abs(np.asarray(w) - exact), axis=1) / np.max(np.abs(exact), axis=1)

    svd_error, gram_error = error(_svd_path(X, y, lams)[0]), error(_gram_path(X, y, lams))
    assert np.all(error(path["w"]) <= 10 * svd_error + 1e-13)
    assert gram_error[0] > 1e4 * error(path["w"])[0]  # κ² instead of κ
    Xc, yc = X - X.mean(0), y - y.mean()
    U, s, _ = np.linalg.svd(Xc, full_matrices=False)  # LOO from numpy's SVD, for scale
    f = s**2 / (s**2 + lams[:, None])
    residual, hat = yc - (f * (U.T @ yc)) @ U.T, 1 / m + f @ (U**2).T
    svd_loo = np.mean((residual / (1 - hat)) ** 2, axis=1)
    loo_error, svd_loo_error = (np.abs(v - exact_loo) / exact_loo for v in (loo, svd_loo))
    # m > n: U = X̃V/s, exact in arithmetic, off by O(εκ) where λ ≲ s_min² (the SVD's
    # own worst case, which its U does not always reach)
    assert np.all(loo_error <= 10 * svd_loo_error + 10 * np.finfo(float).eps * kappa)


def _wide_with_kappa(rng, m, n, kappa):
    """(m, n), n > m, whose row-centred X̃ has m − 1 singular values from 1 down to 1/κ
    (its last is 0: centring puts the ones vector in the null space of X̃X̃ᵀ)."""
    A = rng.normal(size=(m, m - 1))
    U = np.linalg.qr(A - A.mean(axis=0))[0]  # orthonormal columns, orthogonal to 1
    V = np.linalg.qr(rng.normal(size=(n, m - 1)))[0]
    return (U * np.logspace(0, -np.log10(kappa), m - 1)) @ V.T + 1.0


def _gram_route(X, y):
    return bool(_ridge.spectrum(_ridge.centered(jnp.asarray(X), jnp.asarray(y)),
                                need_u=False).gram)  # fmt: skip


@pytest.mark.parametrize(
    ("kappa", "scale", "gram"),
    [(1.0, 1.0, True), (50.0, 1.0, True), (80.0, 1.0, False), (1e3, 1.0, False),
     (1.0, 1e150, True), (1.0, 1e160, False), (1.0, 1e-150, False), (1.0, 1e-140, True)],
)  # fmt: skip
@pytest.mark.parametrize("shape", [(48, 5), (6, 48)])
def test_the_routes_take_the_gram_matrix_only_where_kappa_squared_is_harmless(
    x64, rng, kappa, scale, gram, shape
):
    """ε·κ(X̃)² ≤ GRAM_ERROR (κ ≤ 67 in float64) and X̃ᵀX̃ (or X̃X̃ᵀ, judged without the
    ones vector that centring puts in its null space) in range: the Gram matrix's eigh,
    whose solutions are then within m·ε·κ² of the exact ones; otherwise the QR. float32
    never takes it."""
    m, n = shape
    X = scale * (
        _ill_conditioned(rng, m, n, kappa) if m > n else _wide_with_kappa(rng, m, n, kappa)
    )
    y = X @ rng.normal(size=n) / scale + 1e-3 * rng.normal(size=m)
    yc = y - y.mean()
    assert _gram_route(X, y) is gram
    if scale != 1.0:
        return
    assert not _gram_route(X.astype(np.float32), y.astype(np.float32))
    lams = np.array([0.0 if m > n else 1e-12, 1e-8, 1e-2, 10.0])  # X̃X̃ᵀ is singular
    exact, exact_loo = _exact_ridge(X, y, lams)
    path = closed_form.ridge_path(jnp.asarray(X), jnp.asarray(y), jnp.asarray(lams))
    loo, _ = closed_form.ridge_loo_gcv(jnp.asarray(X), jnp.asarray(y), jnp.asarray(lams))
    error = np.max(np.abs(np.asarray(path["w"]) - exact), axis=1) / np.max(np.abs(exact), axis=1)
    # the Gram's backward error ‖δC‖ ≤ m·ε·‖X̃‖² (Higham, §3.5) amplified by κ(C) = κ²
    bound = max(m, n) * np.finfo(float).eps * kappa**2
    assert np.all(error <= bound)
    # the residuals e = ỹ − ŷ cancel: their relative error is ‖ỹ‖/‖e‖ times the fit's
    cancel = np.max(np.abs(yc)) / np.sqrt(exact_loo)
    # n > m and λ ≲ s_min²: the fit interpolates, 1 − H_ii → 0 and LOO is a 0/0 that
    # amplifies any rounding (the SVD's too); compared where λ ≥ 1e-2 only
    at = slice(None) if m > n else lams >= 1e-2
    assert np.all(np.abs(np.asarray(loo) - exact_loo)[at] <= (bound * cancel * exact_loo)[at])


@pytest.mark.parametrize(("share", "gram"), [(0.0, True), (0.9, False), (2.0, True), (1e12, True)])
@pytest.mark.parametrize("shape", [(48, 5), (6, 48)])
def test_the_gram_route_counts_the_mean_it_leaves_in_x(x64, rng, share, gram, shape):
    """X̃ᵀX̃ is taken as XᵀX − m·x̄x̄ᵀ (X̃X̃ᵀ as XXᵀ − a1ᵀ − 1aᵀ + ‖x̄‖²11ᵀ, a = Xx̄) where
    m‖x̄‖² ≤ ‖X̃‖_F²/min(m, n), and its rounding error then scales with ‖X̃‖² + m‖x̄‖²:
    that is what ε·κ² is judged by. At κ = 65 (ε·κ² = 9.4e-13 with s_max = 1),
    m‖x̄‖² = 0.9‖X̃‖_F²/min(m, n) raises the scale by 17–21% and takes the QR; a larger
    mean has X̃ formed first (for the products with X̃ too) and is back on the Gram
    route, as accurate."""
    (m, n), kappa = shape, 65.0
    Xc = (_ill_conditioned if m > n else _wide_with_kappa)(rng, m, n, kappa)
    Xc -= Xc.mean(0)
    direction = rng.normal(size=n)
    offset = np.sqrt(share * np.sum(Xc**2) / min(m, n) / m)
    X = Xc + offset * direction / np.linalg.norm(direction)
    y = Xc @ rng.normal(size=n) + 1e-3 * rng.normal(size=m)
    assert _gram_route(X, y) is gram
    lams = np.array([0.0 if m > n else 1e-12, 1e-8, 1e-2, 10.0])
    exact, _ = _exact_ridge(X, y, lams)
    path = closed_form.ridge_path(jnp.asarray(X), jnp.asarray(y), jnp.asarray(lams))
    error = np.max(np.abs(np.asarray(path["w"]) - exact), axis=1) / np.max(np.abs(exact), axis=1)
    assert np.all(error <= 2 * m * np.finfo(float).eps * kappa**2)


@pytest.mark.parametrize("shape", [(48, 5), (6, 48)])
def test_under_vmap_over_x_the_route_is_one_branch_for_every_lane(x64, rng, shape):
    """vmap over X (the folds of a CV) keeps the route a lax.cond, not a select that
    would run both routes in every lane: the Gram route where every lane passes, the QR
    for all lanes otherwise; each lane equals its own unbatched path."""
    m, n = shape
    make = _ill_conditioned if m > n else _wide_with_kappa
    well, ill = make(rng, m, n, 2.0), make(rng, m, n, 1e4)
    y = rng.normal(size=m)
    lams = jnp.array([1e-3, 1.0, 100.0])

    def flag(X):
        return _ridge.spectrum(_ridge.centered(X, jnp.asarray(y)), need_u=False).gram

    for pair, expected in (((well, well), True), ((well, ill), False)):
        Xs = jnp.asarray(np.stack(pair))
        assert [bool(f) for f in jax.vmap(flag)(Xs)] == [expected, expected]
        program = jax.make_jaxpr(jax.vmap(lambda X: closed_form.ridge_path(X, y, lams)))(Xs)
        assert "cond" in str(program.jaxpr)
        paths_ = jax.jit(jax.vmap(lambda X: closed_form.ridge_path(X, y, lams)))(Xs)
        for i, X in enumerate(pair):
            alone = closed_form.ridge_path(jnp.asarray(X), jnp.asarray(y), lams)
            np.testing.assert_allclose(paths_["w"][i], alone["w"], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("shape", [(40, 5), (9, 30), (6, 6)])
def test_ridge_loo_gcv_equal_brute_force_refits_at_every_shape(x64, rng, shape):
    m, n = shape
    X, y = _problem(rng, m=m, n=n)
    lams = np.array([0.05, 1.0, 30.0])
    loo, gcv = closed_form.ridge_loo_gcv(jnp.asarray(X), jnp.asarray(y), jnp.asarray(lams))
    Xc = X - X.mean(0)
    for g, lam in enumerate(lams):
        errors = []
        for i in range(m):  # refit without example i (numpy least squares), predict it
            rest = np.arange(m) != i
            w, b = _ridge_lstsq(X[rest], y[rest], lam)
            errors.append((X[i] @ w + b - y[i]) ** 2)
        np.testing.assert_allclose(loo[g], np.mean(errors), rtol=1e-9)
        K = Xc @ Xc.T  # the hat matrix 11ᵀ/m + K(K + λI)⁻¹, either shape
        H = np.full((m, m), 1 / m) + K @ np.linalg.inv(K + lam * np.eye(m))
        e = y - H @ y
        np.testing.assert_allclose(gcv[g], np.mean(e**2) / (1 - np.trace(H) / m) ** 2, rtol=1e-9)


@pytest.mark.parametrize("shape", [(15, 3), (3, 15), (4, 4)])
def test_grad_through_the_ridge_path_matches_central_differences(x64, rng, shape):
    """Reverse mode through each route's QR and SVD, in X, y and λ."""
    X, y = _problem(rng, m=shape[0], n=shape[1])
    probe = rng.normal(size=(2, shape[1]))

    def loss(X, y, lams):
        path = closed_form.ridge_path(X, y, lams)
        return jnp.sum(path["w"] * probe) + jnp.sum(path["b"])

    args = (jnp.asarray(X), jnp.asarray(y), jnp.asarray([0.3, 4.0]))
    jax.test_util.check_grads(loss, args, order=1, modes=["rev"], eps=1e-6, rtol=1e-5)


def test_ridge_bad_input():
    X, y = jnp.ones((4, 2)), jnp.ones(4)
    with pytest.raises(ValueError, match="lams"):
        closed_form.ridge_path(X, y, jnp.ones((2, 2)))
    with pytest.raises(ValueError, match="lams"):
        closed_form.ridge_path(X, y, jnp.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="lam"):
        closed_form.ridge_solution(X, y, -0.5)
    with pytest.raises(ValueError, match="y"):
        closed_form.ridge_solution(X, jnp.ones(3), 1.0)


def test_closed_form_gradients_fail_loudly_on_bad_input(x64):
    params = {"w": jnp.zeros(2), "b": jnp.array(0.0)}
    X = jnp.ones((3, 2))
    with pytest.raises(ValueError, match="y"):
        closed_form.logistic_regression_grad(params, X, jnp.array([0.0, 0.5, 1.0]), 1.0)
    with pytest.raises(ValueError, match="lam"):
        closed_form.linear_regression_grad(params, X, jnp.zeros(3), -1.0)
    with pytest.raises(ValueError, match="params"):
        closed_form.linear_regression_grad({"w": jnp.zeros(3), "b": jnp.array(0.0)}, X, X[:, 0], 1)
    with pytest.raises(ValueError, match="mask"):
        closed_form.l2_grad(params, 1.0, m=3, mask={"w": True})
    with pytest.raises(ValueError, match="lam"):
        closed_form.l1_grad(params, {"b": 1.0}, m=3)
    # the penalty's m is required for the library's convention
    with pytest.raises(ValueError, match="m"):
        closed_form.l2_grad(params, 1.0)
    assert penalties.num_penalized(params) == 2
