"""Splitting a λ grid over devices: which devices (``devices=``), and one sharded call
of a ``jit(vmap(fit))`` with the λ axis along a one-axis ``Mesh`` named ``"lam"``, in one
process or several (``jax.distributed.initialize``). Used by :func:`regjax.sweep`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from regjax._typing import Devices

__all__ = ["resolve_devices", "sharded"]


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
