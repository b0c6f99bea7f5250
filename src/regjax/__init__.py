"""regjax: a JAX functional library for regularized costs.

The library's λ is Ng's: a mean data loss plus λ/(2m)‖w‖² (L2) or λ/m‖w‖₁ (L1),
biases and normalization parameters excluded. ``convert_lambda`` maps it onto every
other convention.
"""

from regjax import (
    checking,
    closed_form,
    conventions,
    costs,
    data,
    experiments,
    hypergrad,
    losses,
    models,
    optimizers,
    paths,
    penalties,
    prox,
    selection,
    solvers,
    transforms,
)
from regjax.checking import GradCheck, check_grad
from regjax.conventions import ConversionWarning, convert_lambda
from regjax.selection import CVResult, cross_validate, lambda_grid, sweep

__version__ = "0.5.0"

__all__ = [
    "CVResult",
    "ConversionWarning",
    "GradCheck",
    "__version__",
    "check_grad",
    "checking",
    "closed_form",
    "conventions",
    "convert_lambda",
    "costs",
    "cross_validate",
    "data",
    "experiments",
    "hypergrad",
    "lambda_grid",
    "losses",
    "models",
    "optimizers",
    "paths",
    "penalties",
    "prox",
    "selection",
    "solvers",
    "sweep",
    "transforms",
]
