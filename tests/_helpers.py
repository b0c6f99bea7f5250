"""Problems, references and loops shared by several test files (one copy each)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
from sklearn.datasets import load_breast_cancer

from regjax import losses, models

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# the SGD problem on which an L2 penalty and weight decay take the same steps
STEPS, ETA, LAM = 200, 0.5, 5.0

# ---------------------------------------------------------------------------------------
# data


def breast_cancer(rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Breast-cancer classification (569 × 30), standardized features, float labels."""
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    return X[:rows], y[:rows].astype(np.float64)


def logistic_data(m: int, n: int, *, seed: int, cond: float = 1.0, scale: float = 1.0):
    """Synthetic binary data; features with singular values spread over [1/cond, 1]."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n))
    if cond != 1.0:
        Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
        X = X @ np.diag(np.geomspace(1.0, 1.0 / cond, n)) @ Q
    w = scale * rng.normal(size=n) / np.sqrt(n)
    y = (rng.random(m) < 1 / (1 + np.exp(-(X @ w + 0.3)))).astype(np.float64)
    return X, y


# ---------------------------------------------------------------------------------------
# numpy references and jitted derivatives


def np_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def value_and_grad(fn):
    """Value and gradient under jit (as a training loop would use them)."""
    return jax.jit(jax.value_and_grad(fn))


def numpy_sgd_l2(X, y, lam, etas, lams=None):
    """Independent reference: θ ← θ − η_t(∇L + λ_t/m·w) for logistic regression."""
    m, n = X.shape
    w, b = np.zeros(n), 0.0
    for t, eta in enumerate(etas):
        lam_t = lam if lams is None else lams[t]
        r = 1 / (1 + np.exp(-(X @ w + b))) - y
        gw, gb = X.T @ r / m + lam_t / m * w, r.mean()
        w, b = w - eta * gw, b - eta * gb
    return w, b


# ---------------------------------------------------------------------------------------
# Optax training loops on {"w", "b"} linear models


def zero_params(n: int) -> dict[str, jax.Array]:
    return {"w": jnp.zeros(n), "b": jnp.zeros(())}


def logistic_loss(X, y):
    X, y = jnp.asarray(X), jnp.asarray(y)
    return lambda p: losses.binary_cross_entropy(models.linear(p, X), y)


def squared_loss(X, y):
    X, y = jnp.asarray(X), jnp.asarray(y)
    return lambda p: losses.squared_error(models.linear(p, X), y)


def train(opt, loss, params, steps):
    """``steps`` optimizer steps on ``loss`` (a ``lax.scan`` under ``jit``)."""
    grad = jax.grad(loss)

    @jax.jit
    def go(params):
        def body(carry, _):
            p, s = carry
            u, s = opt.update(grad(p), s, p)
            return (optax.apply_updates(p, u), s), None

        (p, _), _ = jax.lax.scan(body, (params, opt.init(params)), None, length=steps)
        return p

    return go(params)


def close(a, b, rtol=1e-12, atol=1e-14):
    """Leafwise ``assert_allclose`` of two pytrees."""
    for x, z in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(z), rtol=rtol, atol=atol)


def all_but_bias(params):
    """An Optax mask: the weights of a ``{"w", "b"}`` dict, not its bias."""
    return {"w": True, "b": False} if isinstance(params, dict) else None


def assert_sgd_runs_equal_numpy(runs, X, y, lam, eta, steps):
    """Each ``name: (optimizer, loss)`` trained from zero ends at the numpy SGD on mean
    loss + λ/(2m)‖w‖² (rtol 1e-12), and λ visibly changes that answer (not vacuous)."""
    n = X.shape[1]
    w_ref, b_ref = numpy_sgd_l2(X, y, lam, [eta] * steps)
    for name, (opt, fn) in runs.items():
        p = train(opt, fn, zero_params(n), steps)
        assert p["w"].dtype == jnp.float64, name
        np.testing.assert_allclose(p["w"], w_ref, rtol=1e-12, atol=1e-14, err_msg=name)
        np.testing.assert_allclose(p["b"], b_ref, rtol=1e-12, atol=1e-14, err_msg=name)
    w0, _ = numpy_sgd_l2(X, y, 0.0, [eta] * steps)
    assert np.linalg.norm(w0 - w_ref) > 1e-2 * np.linalg.norm(w_ref)
