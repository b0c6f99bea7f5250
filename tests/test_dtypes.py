"""The dtype policy: results in the input's dtype (integer X: the default float), with
the accuracy the README's "Dtypes and accuracy" states, against float64 numpy on the
same rounded inputs; closed forms that neither overflow nor lose digits by squaring."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import regjax as rj

DTYPES = [jnp.float32, jnp.bfloat16, jnp.float16]


def _problem(rng, m=200, n=20):
    X = rng.normal(size=(m, n)) @ np.diag(np.logspace(0, 2, n))  # columns over 2 decades
    return X, X @ rng.normal(size=n) + rng.normal(size=m)


def _ridge64(X, y, lam):
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    w = np.linalg.solve(Xc.T @ Xc + lam * np.eye(X.shape[1]), Xc.T @ yc)
    return w, np.linalg.cond(Xc)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: jnp.dtype(d).name)
def test_closed_forms_and_paths_answer_in_the_input_dtype(dtype, rng):
    X, y = _problem(rng, m=40, n=4)
    Xd, yd = jnp.asarray(X, dtype), jnp.asarray(y, dtype)
    lams = jnp.array([0.5, 5.0])
    assert rj.closed_form.ridge_solution(Xd, yd, 1.0)["w"].dtype == dtype
    assert rj.closed_form.ridge_path(Xd, yd, lams)["b"].dtype == dtype
    assert all(v.dtype == dtype for v in rj.closed_form.ridge_loo_gcv(Xd, yd, lams))
    assert rj.paths.ridge(Xd, yd, lams).params["w"].dtype == dtype
    labels = jnp.asarray(y > np.median(y), dtype)
    assert rj.paths.logistic(Xd / 100, labels, lams, tol=1e-3).params["w"].dtype == dtype


def test_under_x64_a_float32_input_still_answers_in_float32(x64, rng):
    X, y = _problem(rng, m=40, n=4)
    path = rj.paths.logistic(np.float32(X / 100), np.float32(y > 0), jnp.array([1.0]), tol=1e-5)
    assert path.params["w"].dtype == jnp.float32
    assert rj.paths.ridge(np.float32(X), np.float32(y), jnp.array([1.0])).params["w"].dtype == (
        jnp.float32
    )


def test_integer_x_is_promoted_to_the_default_float(rng):
    X = rng.integers(-5, 5, size=(30, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + rng.normal(size=30)
    got = rj.closed_form.ridge_solution(jnp.asarray(X, jnp.int32), y.astype(np.float32), 2.0)
    want = rj.closed_form.ridge_solution(jnp.asarray(X, jnp.float32), y.astype(np.float32), 2.0)
    assert got["w"].dtype == jnp.float32
    np.testing.assert_allclose(got["w"], want["w"], rtol=1e-6)


@pytest.mark.parametrize(
    ("dtype", "factor"),
    # float32: the SVD is backward stable, so the error is O(u·κ(X̃)) (the normal equations
    # would give O(u·κ²)); 16-bit: computed in float32, so the final rounding dominates
    [(jnp.float32, 50.0), (jnp.bfloat16, 1.0), (jnp.float16, 1.0)],
    ids=["float32", "bfloat16", "float16"],
)
def test_ridge_accuracy_against_float64_on_the_rounded_inputs(dtype, factor, rng):
    u32 = float(jnp.finfo(jnp.float32).eps) / 2
    for _ in range(5):
        X, y = _problem(rng)
        Xd, yd = jnp.asarray(X, dtype), jnp.asarray(y, dtype)
        Xr, yr = np.asarray(Xd, np.float64), np.asarray(yd, np.float64)
        want, cond = _ridge64(Xr, yr, 1.0)
        got = np.asarray(rj.closed_form.ridge_solution(Xd, yd, 1.0)["w"], np.float64)
        rel = np.max(np.abs(got - want)) / np.max(np.abs(want))
        if dtype == jnp.float32:
            assert rel <= factor * u32 * cond
        else:  # float32 work, then one rounding to the 16-bit dtype: ≤ 1 ulp there
            assert rel <= float(jnp.finfo(dtype).eps) + 100 * u32 * cond


@pytest.mark.parametrize(
    ("scale", "penalized"), [(1e-150, True), (1e150, True), (1e-200, False), (1e200, False)]
)
def test_badly_scaled_x_gives_the_scaled_answer(x64, rng, scale, penalized):
    """cX at λc² has the minimizer w/c: no overflow, no w = 0 (the Gram matrix of
    1e150·X or 1e200·X overflows float64)."""
    X, y = _problem(rng, m=50, n=5)
    lam = 3.0 if penalized else 0.0
    want = rj.closed_form.ridge_solution(X, y, lam)
    got = rj.closed_form.ridge_solution(scale * X, y, lam * scale**2 if penalized else 0.0)
    np.testing.assert_allclose(np.asarray(got["w"]) * scale, want["w"], rtol=1e-10)
    np.testing.assert_allclose(got["b"], want["b"], rtol=1e-10)


def test_the_hypergradient_through_ridge_is_unchanged_by_the_svd_route(x64, rng):
    """jax.grad of the SVD route in λ equals the derivative of the normal equations."""
    X, y = _problem(rng, m=40, n=4)
    Xc = X - X.mean(axis=0)

    def w0(lam):
        return rj.closed_form.ridge_solution(X, y, lam)["w"][0]

    lam = 2.0
    A = Xc.T @ Xc + lam * np.eye(4)
    dw = -np.linalg.solve(A, np.linalg.solve(A, Xc.T @ (y - y.mean())))
    assert float(jax.grad(w0)(lam)) == pytest.approx(dw[0], rel=1e-9)
