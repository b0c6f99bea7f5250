r"""Checks on traced values: the one checked path inside ``jit``, ``vmap`` and ``grad``.

:mod:`regjax._checks` checks concrete values at once; a traced value (inside a
transformation) goes through :func:`traced_check`, switched by the environment
variable ``REGJAX_ON_ERROR``, read when a function is traced (set it before the first
call: a compiled function keeps the mode it was traced with):

* ``off`` (the default): traced values are not checked; the compiled code pays nothing;
* ``raise``: a failed check raises from the jitted (or vmapped) call, with the eager
  message, through a host callback (``jax.debug.callback``, as Equinox's
  ``EQX_ON_ERROR=raise``); a checked call costs a reduction and a callback, also inside
  the training loops that call a cost at every step;
* ``checkify``: the checks are ``jax.experimental.checkify.check``\ s, reported by a
  function wrapped in ``checkify.checkify`` (``err.throw()``), also under ``vmap``.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import checkify

__all__ = ["ON_ERROR", "ON_ERROR_MODES", "on_error", "traced_check"]

ON_ERROR = "REGJAX_ON_ERROR"
ON_ERROR_MODES = ("off", "raise", "checkify")


def on_error() -> str:
    """The traced-check mode, from the environment variable ``REGJAX_ON_ERROR``."""
    mode = os.environ.get(ON_ERROR, "off")
    if mode not in ON_ERROR_MODES:
        raise ValueError(f"{ON_ERROR} must be one of {list(ON_ERROR_MODES)}, got {mode!r}")
    return mode


def _fail_unless(ok: Any, *, message: str) -> None:
    if not np.all(np.asarray(ok)):
        raise ValueError(message)


def traced_check(ok: Any, message: str) -> None:
    """The check of a traced value: ``ok`` (booleans) all true, or ``message``, as
    ``REGJAX_ON_ERROR`` says (see the module docstring); nothing when it is ``off``.

    Example:
      >>> traced_check(jnp.array([True]), "never shown")   # a passing check: nothing
    """
    mode = on_error()
    if mode == "off":
        return
    ok = jnp.all(jnp.asarray(ok))
    if mode == "checkify":
        checkify.check(ok, message.replace("{", "{{").replace("}", "}}"))
    else:
        jax.debug.callback(functools.partial(_fail_unless, message=message), ok)
