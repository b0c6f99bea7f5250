"""The types that recur across regjax's signatures (cf. optax ``_src/base.py``).

They are aliases, so ``help()`` and the docs name what an argument *is* (a parameter
pytree, a λ that may be per group, a schedule) where the checker can only say ``Any``:
JAX pytrees are open-ended (dicts, lists, NamedTuples, Flax and Equinox modules).
Shapes are written with jaxtyping where they help (``Float[Array, "m n"]``); jaxtyping
is imported for the type checker only, never at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import jax
from jax.typing import ArrayLike

if TYPE_CHECKING:  # shapes for the type checker and the docs; never imported at run time
    from jaxtyping import ArrayLike as _Like
    from jaxtyping import Float, Integer, Real

    Matrix: TypeAlias = Float[_Like, "m n"]
    """Inputs X, one row per example."""
    Targets: TypeAlias = Real[_Like, "m ..."]
    """Targets y: values or labels, one row per example."""
    Labels: TypeAlias = Integer[_Like, " m"]
    """Class labels in [0, K)."""
    Grid: TypeAlias = Float[_Like, " G"]
    """A λ grid."""

__all__ = [
    "ArrayLike",
    "Cost",
    "Data",
    "Devices",
    "Fit",
    "Fitted",
    "Grid",
    "Labels",
    "Lam",
    "Mask",
    "Matrix",
    "Params",
    "PyTree",
    "ScalarOrSchedule",
    "Scale",
    "Schedule",
    "Score",
    "Targets",
]

PyTree: TypeAlias = Any
"""Any JAX pytree: nested dicts, lists, tuples, NamedTuples, Flax and Equinox trees."""

Params: TypeAlias = PyTree
"""A pytree of floating arrays: ``{"w", "b"}``, a list of MLP layers, a model's tree."""

Lam: TypeAlias = Any
"""λ ≥ 0: a number, a (possibly traced) scalar array, or a pytree prefix of the
parameters holding one scalar per leaf or group (``{"l1": 1.0, "l2": 10.0}``)."""

Schedule: TypeAlias = Callable[[jax.Array], ArrayLike]
"""An Optax schedule: step count → value."""

ScalarOrSchedule: TypeAlias = float | ArrayLike | Schedule
"""A hyperparameter: a number, a traced scalar, or a schedule evaluated at the step."""

Data: TypeAlias = Any
"""A data argument of a cost or a fit: an array (X, y, labels, Y) or a pytree of them."""

Devices: TypeAlias = "int | str | jax.Device | list[jax.Device] | None"
"""Where a grid runs: every device, the first k, a platform name, a device or a list."""

Mask: TypeAlias = Any
"""Which leaves are penalized: ``None`` (all but biases and normalization parameters),
``True`` (all), a boolean pytree (a prefix of the parameters), or a callable
``params -> boolean pytree``."""

Scale = Literal["per_example", "sum", "per_param"]
"""The divisor of a penalty: m, 1 or the number of penalized weights n."""

Cost: TypeAlias = Callable[..., jax.Array]
"""``cost(params, *data, lam) -> scalar``."""

Fit: TypeAlias = Callable[..., Any]
"""``fit(lam, *data) -> params`` (or, batched, ``fit(lams, *data)`` with a leading G axis)."""

Fitted: TypeAlias = Any
"""What a one-λ fit returns: the fitted parameters, or ``(params, info)`` with
``return_info=True`` (:class:`regjax.solvers.FitInfo`)."""

Score: TypeAlias = Callable[..., jax.Array]
"""``score(params, X, y) -> scalar``, a loss: lower is better."""


def result_dtype(x: Any) -> Any:
    """The dtype policy: results are in the input's floating dtype (an integer input:
    the default float, float32, or float64 with x64)."""
    import jax.numpy as jnp

    dtype = jnp.result_type(x)
    return dtype if jnp.issubdtype(dtype, jnp.floating) else jnp.zeros(()).dtype
