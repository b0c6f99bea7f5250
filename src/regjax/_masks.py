r"""Masks: which leaves of a parameter pytree are penalized or decayed.

The public names live in :mod:`regjax.penalties`; this module holds the code. A mask
is resolved to one bool per leaf (:func:`resolve_mask`) from

- ``None``: :func:`exclude_biases_and_norms`, every leaf but biases and normalization
  parameters;
- ``True`` / ``False``: every leaf / no leaf (a one-leaf prefix of the parameters);
- a boolean pytree with the structure of the parameters, or a prefix of it;
- a callable ``params -> boolean pytree``: :func:`exclude_biases`,
  :func:`weights_only`, :func:`path_mask` or the user's own.

Equinox and Flax NNX layers are recognized by type only when their library is already
imported (``sys.modules``): neither is a dependency of regjax, and a tree cannot hold
one of their modules unless the library was imported.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from regjax._typing import Mask, Params, PyTree

__all__ = [
    "BIAS_NAMES",
    "broadcast_prefix",
    "exclude_biases",
    "exclude_biases_and_norms",
    "path_mask",
    "resolve_mask",
    "weights_only",
]

BIAS_NAMES = frozenset({"b", "bias"})
NORM_NAMES = frozenset({"scale"})  # Flax LayerNorm/BatchNorm/RMSNorm/GroupNorm scale
_WRAPPER_NAMES = frozenset({"value", "raw_value"})  # Flax NNX variable wrappers
# Norm layers named on the path: Flax Linen's automatic names (LayerNorm_0, BatchNorm_1,
# RMSNorm_0, GroupNorm_0, InstanceNorm_0), snake-case names (layer_norm, batchnorm) and
# Linen's batch_stats collection. Matched against the last "/" segment of each key.
_NORM_KEY = re.compile(r"(?:layer|batch|rms|group|instance)_?norm(?:_\d+)?|batch_stats", re.I)
_EQX_NORMS = ("LayerNorm", "RMSNorm", "BatchNorm", "GroupNorm")
_NNX_NORMS = ("LayerNorm", "RMSNorm", "BatchNorm", "GroupNorm", "InstanceNorm", "BatchStat")


def _types(module_name: str, attr: str, names: tuple[str, ...]) -> tuple[type, ...]:
    """The classes ``names`` of ``module_name.attr``, if that library is imported."""
    module = sys.modules.get(module_name)
    namespace = getattr(module, attr, None) if attr else module
    found = (getattr(namespace, name, None) for name in names)
    return tuple(t for t in found if isinstance(t, type))


def _norm_types() -> tuple[type, ...]:
    return _types("equinox", "nn", _EQX_NORMS) + _types("flax.nnx", "", _NNX_NORMS)


def _embedding_types() -> tuple[type, ...]:
    return _types("equinox", "nn", ("Embedding",)) + _types("flax.nnx", "", ("Embed",))


def _key_name(key: Any) -> str | None:
    for attr in ("key", "name", "idx"):
        if hasattr(key, attr):
            return str(getattr(key, attr))
    return None


def _leaf_name(path: tuple[Any, ...]) -> str | None:
    """The name of a leaf: its last path key that is not a variable wrapper."""
    for key in reversed(path):
        name = _key_name(key)
        if name is not None and name not in _WRAPPER_NAMES:
            return name
    return None


def _through_norm_layer(path: tuple[Any, ...]) -> bool:
    names = (_key_name(key) for key in path)
    return any(name and _NORM_KEY.fullmatch(name.rsplit("/", 1)[-1]) for name in names)


def _map_with_types(
    params: Params, skip: tuple[type, ...], rule: Callable[[tuple[Any, ...], Any], bool]
) -> PyTree:
    """``rule(path, leaf)`` for each leaf, False for every leaf inside an instance of ``skip``."""

    def visit(path: tuple[Any, ...], node: Any) -> Any:
        if skip and isinstance(node, skip):
            return jax.tree.map(lambda _: False, node)
        return bool(rule(path, node))

    is_leaf = (lambda node: isinstance(node, skip)) if skip else None
    return jax.tree_util.tree_map_with_path(visit, params, is_leaf=is_leaf)


def exclude_biases(params: Params) -> PyTree:
    """Mask that penalizes every leaf except those named ``"b"`` or ``"bias"``.

    Works on dicts (``{"w", "b"}``, Flax ``{"kernel", "bias"}``), lists of layers,
    Equinox modules (attribute ``bias``) and Flax NNX states. Normalization scales
    (Flax ``scale``, Equinox ``LayerNorm.weight``) *are* penalized; the default mask,
    :func:`exclude_biases_and_norms`, leaves them alone.

    Args:
      params: a pytree of parameters.

    Returns:
      A pytree of Python bools with the structure of ``params``.

    Example:
      >>> import jax.numpy as jnp
      >>> exclude_biases({"w": jnp.ones(3), "b": jnp.zeros(())})
      {'b': False, 'w': True}
    """
    return jax.tree_util.tree_map_with_path(
        lambda path, _: _leaf_name(path) not in BIAS_NAMES, params
    )


def _not_bias_or_norm(path: tuple[Any, ...], _: Any) -> bool:
    return _leaf_name(path) not in BIAS_NAMES | NORM_NAMES and not _through_norm_layer(path)


def exclude_biases_and_norms(params: Params) -> PyTree:
    """The default mask: every leaf except biases and normalization parameters.

    A leaf is left alone (``False``) when the tree says it is a bias or belongs to a
    normalization layer:

    - its name is ``"b"``, ``"bias"`` or ``"scale"`` (Flax's LayerNorm, BatchNorm,
      RMSNorm and GroupNorm hold ``scale`` and ``bias``, in Linen dicts and NNX states);
    - a key on its path names a norm layer: Flax Linen's ``LayerNorm_0``,
      ``BatchNorm_1``, ``RMSNorm_0``, ``GroupNorm_0``, ``InstanceNorm_0`` (any case, with
      or without ``_``: ``layer_norm``), or the ``batch_stats`` collection;
    - it lies inside an Equinox ``nn.LayerNorm``, ``nn.RMSNorm``, ``nn.BatchNorm`` or
      ``nn.GroupNorm`` (their ``weight`` and ``bias``), or a Flax NNX norm module or
      ``nnx.BatchStat``, recognized by type when the parameters are modules.

    Everything else is penalized: a linear model's ``w``, an MLP's ``W``, Flax
    ``kernel`` and ``embedding``, Equinox ``Linear.weight``. A norm layer under a name of
    the user's choosing (``"ln"``) in a plain dict is recognized only by its leaf names.

    PyTorch and Optax decay everything by default (``torch.optim.SGD(weight_decay=...)``,
    ``optax.adamw`` with ``mask=None``): to reproduce such a recipe literally, pass
    ``mask=True``.

    Args:
      params: a pytree of parameters (dicts, lists, Flax NNX states or modules,
        Equinox modules).

    Returns:
      A pytree of Python bools with the structure of ``params``.

    Example:
      >>> import jax.numpy as jnp
      >>> params = {"Dense_0": {"kernel": jnp.ones((2, 3)), "bias": jnp.ones(3)},
      ...           "LayerNorm_0": {"scale": jnp.ones(3), "bias": jnp.ones(3)},
      ...           "BatchNorm_0": {"mean": jnp.zeros(3)}, "w": jnp.ones(3)}
      >>> mask = exclude_biases_and_norms(params)
      >>> mask["Dense_0"], mask["LayerNorm_0"], mask["BatchNorm_0"], mask["w"]
      ({'bias': False, 'kernel': True}, {'bias': False, 'scale': False}, {'mean': False}, True)
    """
    return _map_with_types(params, _norm_types(), _not_bias_or_norm)


def weights_only(params: Params, *, embeddings: bool = True) -> PyTree:
    """Mask that penalizes only weight matrices: kernels, conv filters, embeddings.

    A leaf is penalized when :func:`exclude_biases_and_norms` keeps it *and* it has two
    or more dimensions. With ``embeddings=False`` embedding tables are left alone too:
    leaves named ``"embedding"`` (Flax ``nn.Embed``, ``nnx.Embed``) and Equinox
    ``nn.Embedding`` (by type). A 1-D leaf is never penalized: not a linear model's
    ``w`` either, whose mask is the default one.

    Args:
      params: a pytree of parameters.
      embeddings: whether embedding tables are penalized.

    Returns:
      A pytree of Python bools with the structure of ``params``; pass the function as
      ``mask=weights_only`` or, without embeddings,
      ``mask=functools.partial(weights_only, embeddings=False)``.

    Example:
      >>> import functools
      >>> import jax.numpy as jnp
      >>> params = {"Embed_0": {"embedding": jnp.ones((5, 2))}, "w": jnp.ones(2),
      ...           "Dense_0": {"kernel": jnp.ones((2, 2)), "bias": jnp.ones(2)}}
      >>> weights_only(params)
      {'Dense_0': {'bias': False, 'kernel': True}, 'Embed_0': {'embedding': True}, 'w': False}
      >>> functools.partial(weights_only, embeddings=False)(params)["Embed_0"]
      {'embedding': False}
    """

    def rule(path: tuple[Any, ...], leaf: Any) -> bool:
        if not embeddings and _leaf_name(path) == "embedding":
            return False
        return len(np.shape(leaf)) >= 2 and _not_bias_or_norm(path, leaf)

    skip = _norm_types() + (() if embeddings else _embedding_types())
    return _map_with_types(params, skip, rule)


def path_mask(predicate: Callable[[str], bool] | str) -> Callable[[Params], PyTree]:
    """Mask from a predicate on each leaf's path string (``jax.tree_util.keystr``).

    Args:
      predicate: a callable ``path -> bool``, or a regular expression; a leaf is
        penalized when the predicate holds for (the regex is found in) its path,
        e.g. ``"['layers'][0]['W']"``.

    Returns:
      A callable ``params -> boolean pytree`` to pass as ``mask=``.

    Example:
      >>> import jax.numpy as jnp
      >>> mask = path_mask(r"kernel")
      >>> mask({"dense": {"kernel": jnp.ones((2, 2)), "bias": jnp.ones(2)}})
      {'dense': {'bias': False, 'kernel': True}}
    """
    test: Callable[[str], bool]
    if isinstance(predicate, str):
        try:
            pattern = re.compile(predicate)
        except re.error as err:
            raise ValueError(f"predicate {predicate!r} is not a regular expression: {err}") from err

        def test(path: str) -> bool:
            return pattern.search(path) is not None

    elif callable(predicate):
        test = predicate
    else:
        raise TypeError(f"predicate must be a callable or a regex string, got {predicate!r}")

    def mask(params: Params) -> PyTree:
        return jax.tree_util.tree_map_with_path(
            lambda path, _: bool(test(jax.tree_util.keystr(path))), params
        )

    return mask


class _Box:
    """Holds one value per parameter leaf; not a pytree, so ``None`` values survive."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def broadcast_prefix(prefix: PyTree, params: Params, name: str) -> list[Any]:
    """Values of ``prefix`` (a tree prefix of ``params``) repeated for each leaf.

    ``None`` subtrees of ``params`` (e.g. the non-array fields of ``eqx.partition``)
    hold no leaves and get no value.

    Example:
      >>> broadcast_prefix({"a": 1, "b": 2}, {"a": [0, 0], "b": 0}, "lam")
      [1, 1, 2]
    """
    try:
        tree = jax.tree.map(
            lambda value, sub: jax.tree.map(lambda _: _Box(value), sub),
            prefix,
            params,
            is_leaf=lambda x: x is None,
        )
    except (ValueError, TypeError, KeyError) as err:
        raise ValueError(
            f"{name} must have the structure of params (or a prefix of it); "
            f"{name} is {jax.tree.structure(prefix)}, params is {jax.tree.structure(params)}"
        ) from err
    return [box.value for box in jax.tree.leaves(tree)]


def _is_bool(flag: Any) -> bool:
    return isinstance(flag, bool | np.bool_) or (
        hasattr(flag, "dtype") and flag.dtype == bool and jnp.ndim(flag) == 0
    )


def resolve_mask(params: Params, mask: Mask = None) -> list[bool]:
    """One bool per leaf of ``params`` (in ``jax.tree.leaves`` order).

    Args:
      params: a pytree of parameters.
      mask: ``None`` (:func:`exclude_biases_and_norms`), ``True``/``False`` (every
        leaf / none), a boolean pytree (structure or prefix of ``params``), or a
        callable ``params -> boolean pytree``.

    Returns:
      A list of Python bools, one per leaf.

    Raises:
      ValueError: the mask does not have the structure of ``params``.
      TypeError: a mask leaf is not a bool.

    Example:
      >>> import jax.numpy as jnp
      >>> resolve_mask({"w": jnp.ones(2), "b": jnp.ones(())})
      [False, True]
      >>> resolve_mask({"w": jnp.ones(2), "b": jnp.ones(())}, True)
      [True, True]
    """
    if mask is None:
        mask = exclude_biases_and_norms
    # A boolean pytree may itself be callable (an Equinox module with __call__).
    is_tree = jax.tree.leaves(mask) and all(_is_bool(f) for f in jax.tree.leaves(mask))
    if callable(mask) and not is_tree:
        mask = mask(params)
    flags = broadcast_prefix(mask, params, "mask")
    for flag in flags:
        if not _is_bool(flag):
            raise TypeError(
                "mask leaves must be Python bools (one per leaf; True or False alone "
                f"for every leaf), got {flag!r}"
            )
    return [bool(flag) for flag in flags]
