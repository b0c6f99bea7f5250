"""How :func:`regjax.sweep` lays a λ grid out: over devices (``devices=``: one sharded
call with the λ axis along a one-axis ``Mesh`` named ``"lam"``, in one process or
several under ``jax.distributed.initialize``) and, on each device, in batches of lanes
(``batch_size=``: every λ at once under ``vmap``, or a few at a time under ``lax.map``).

Why not always every λ at once: on a CPU, ``vmap`` over λ of a network's training turns
its 2-D products ``h @ W`` (both sides depend on λ) into batched ones, and XLA compiles
those worse: in the benchmark's programs some are left out of the GEMM library fusions
the 2-D products get, and transposing copies of the (G, m, width) activations appear
every step. Measured (``bench/bench_mlp_sweep.py``), ``jit(vmap)`` then runs at
0.5–0.8× the speed of a loop over λ. So on a CPU, when vmapping the fit makes batched
matmuls that are not tiny, the λ run one after another inside one compiled program (the
loop's speed, without its dispatches); anywhere else (or without such products, e.g. a
ridge fit, whose SVD of X does not depend on λ and is done once for the whole grid) they
run at once.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.extend import core as jax_core
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from regjax import _checks
from regjax._typing import Devices, Fit

__all__ = ["check_batch_size", "compiled", "lanes_at_once", "resolve_devices", "sharded"]


def resolve_devices(devices: Devices) -> list[jax.Device]:
    """``None``: every device; an int k: the first k; a platform name (``"cpu"``,
    ``"gpu"``): that platform's devices; a device or a list of devices."""
    if devices is None or isinstance(devices, str):
        try:
            return list(jax.devices(devices))
        except RuntimeError as err:
            raise ValueError(f"devices={devices!r} names no platform of this process") from err
    count = jax.device_count()
    if isinstance(devices, int) and not isinstance(devices, bool) and 1 <= devices <= count:
        return list(jax.devices()[:devices])
    chosen = [devices] if isinstance(devices, jax.Device) else devices
    if not isinstance(chosen, list | tuple) or not chosen:
        chosen = [None]  # refused below
    if not all(isinstance(d, jax.Device) for d in chosen):
        raise ValueError(
            f"devices must be None, an int in [1, {count}], a platform name such as 'cpu', "
            f"a device or a non-empty list of devices; got {devices!r}"
        )
    return list(chosen)


def check_batch_size(batch_size: Any) -> int | None:
    """``batch_size``, checked: ``None`` (chosen per platform) or an int ≥ 1."""
    if batch_size is None:
        return None
    _checks.check_int(batch_size, "batch_size", low=1)
    return int(batch_size)


def _jaxprs(jaxpr: Any) -> Iterator[Any]:
    """``jaxpr`` and every jaxpr nested in it (loop bodies, branches, inner jits)."""
    yield jaxpr
    for inner in jax_core.subjaxprs(jaxpr):
        yield from _jaxprs(inner)


def _batched_matmuls(fn: Callable[..., Any], *args: Any) -> list[int]:
    """The FLOPs, 2·batch·free·contracted sizes, of each matrix product with batch
    dimensions that tracing ``fn(*args)`` records (loop bodies counted once)."""
    flops = []
    for inner in _jaxprs(jax.make_jaxpr(fn)(*args).jaxpr):
        for eqn in inner.eqns:
            if eqn.primitive.name != "dot_general" or not eqn.params["dimension_numbers"][1][0]:
                continue
            (_, rhs_contract), (_, rhs_batch) = eqn.params["dimension_numbers"]
            lhs, rhs = eqn.invars[0].aval.shape, eqn.invars[1].aval.shape
            rhs_free = [n for d, n in enumerate(rhs) if d not in (*rhs_contract, *rhs_batch)]
            flops.append(2 * int(np.prod(lhs)) * int(np.prod(rhs_free)))
    return flops


CPU_BATCHED_FLOPS = 1e4
"""On a CPU, ``batch_size=None`` runs the λ one at a time when batching them makes a
matrix product of at least this many FLOPs per λ batched. Measured on 2 cores
(``bench/bench_mlp_sweep.py``, digits MLPs, 16 λ): below it ``vmap`` was 1.1–2× the
loop over λ; above it anywhere from 0.5× to 1.3×, never predictably ahead, while one λ at
a time is the loop (1.00–1.04×)."""


def lanes_at_once(fit: Fit, platform: str, lams: jax.Array, args: Sequence[Any]) -> int:
    """``batch_size=None``: every lane at once, except on a CPU when ``vmap(fit)`` has more
    batched matmuls than ``fit`` (they came from batching λ), the largest of
    ≥ :data:`CPU_BATCHED_FLOPS` per λ: then one at a time. Only traces (no FLOPs run)."""
    size = lams.shape[0]
    if platform != "cpu":
        return size
    batched = _batched_matmuls(jax.vmap(fit, in_axes=(0,) + (None,) * len(args)), lams, *args)
    lane = jax.ShapeDtypeStruct(lams.shape[1:], lams.dtype)
    if len(batched) > len(_batched_matmuls(fit, lane, *args)):
        if max(batched) / size >= CPU_BATCHED_FLOPS:
            return 1
    return size


def _program(
    fit: Fit, count: int, platform: str, batch_size: int | None
) -> Callable[..., tuple[Any, jax.Array]]:
    """``run(lams, *args) -> (fit's outputs stacked over λ, which lanes are finite)``:
    ``count`` devices each take ``len(lams)/count`` consecutive λ, ``batch_size`` at a
    time (the batches one after another: ``lax.map``; all at once: ``vmap``)."""

    def run(lams: jax.Array, *args: Any) -> tuple[Any, jax.Array]:
        per_device = lams.shape[0] // count
        lanes = batch_size or lanes_at_once(fit, platform, lams, args)
        if lanes >= per_device:
            out = jax.vmap(fit, in_axes=(0,) + (None,) * len(args))(lams, *args)
            return out, _checks.finite_lanes(out)

        def one(lam: jax.Array) -> Any:
            return fit(lam, *args)

        def on_device(block: jax.Array) -> Any:  # lanes=1: no vmap at all
            return jax.lax.map(one, block, batch_size=lanes if lanes > 1 else None)

        if count == 1:
            out = on_device(lams)
        else:  # (count, per_device): the first axis is the sharded one
            out = jax.vmap(on_device)(lams.reshape(count, per_device))
            out = jax.tree.map(lambda leaf: leaf.reshape((-1, *leaf.shape[2:])), out)
        return out, _checks.finite_lanes(out)

    return run


_PROGRAMS: weakref.WeakKeyDictionary[Any, dict[Any, Any]] = weakref.WeakKeyDictionary()


def compiled(
    fit: Fit, num_args: int, devices: Sequence[jax.Device], batch_size: int | None
) -> Callable[..., tuple[Any, jax.Array]]:
    """The jitted :func:`_program` for ``fit``, cached per fit object (and per number of
    arguments, device count, platform and ``batch_size``) so a second sweep does not
    retrace; jit's own cache keys the argument shapes (the ``None`` choice is made while
    tracing, so it is made once per shape too)."""
    key = (num_args, len(devices), devices[0].platform, batch_size)
    try:
        per_fit = _PROGRAMS.setdefault(fit, {})
    except TypeError:  # not weak-referenceable: no cache
        per_fit = {}
    if key not in per_fit:
        per_fit[key] = jax.jit(_program(fit, len(devices), devices[0].platform, batch_size))
    return per_fit[key]


def sharded(
    run: Callable[..., Any], lams: jax.Array, args: Sequence[Any], devices: list[Any]
) -> Any:
    """``run(lams, *args)`` with ``lams`` padded to a multiple of the device count
    (repeating its last value) and split over ``devices``, ``args`` replicated; the
    result is gathered on every process and cut back to ``len(lams)``."""
    devices = sorted(devices, key=lambda d: (d.process_index, d.id))
    mesh = Mesh(np.array(devices), ("lam",))
    size, count = lams.shape[0], len(devices)
    padded = -(-size // count) * count
    lams_padded = jnp.concatenate([lams, jnp.repeat(lams[-1:], padded - size)])
    if jax.process_count() == 1:
        lam_arr = jax.device_put(lams_padded, NamedSharding(mesh, P("lam")))
        arg_arrs = [jax.device_put(a, NamedSharding(mesh, P())) for a in args]
        out = run(lam_arr, *arg_arrs)
    else:
        nproc, index = jax.process_count(), jax.process_index()
        local = np.asarray(lams_padded).reshape(nproc, -1)[index]
        lam_arr = multihost_utils.host_local_array_to_global_array(local, mesh, P("lam"))
        arg_arrs = [
            jax.tree.map(
                lambda a: multihost_utils.host_local_array_to_global_array(
                    np.asarray(a), mesh, P()
                ),
                arg,
            )
            for arg in args
        ]
        out = run(lam_arr, *arg_arrs)
        out = multihost_utils.process_allgather(out, tiled=True)
    return jax.tree.map(lambda leaf: leaf[:size], out)
