"""One process of a two-process sweep (run by tests/test_multiprocess.py).

Usage: python multiprocess_worker.py PROCESS_ID PORT OUT.npz
Each process owns 2 simulated CPU devices; collectives go over gloo on localhost.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    # Set up here, not at import: pytest's doctest collection imports this module.
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    import jax

    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    process_id, port, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    jax.distributed.initialize(
        coordinator_address=f"127.0.0.1:{port}", num_processes=2, process_id=process_id
    )
    import numpy as np

    import regjax as rj

    assert jax.process_count() == 2 and jax.device_count() == 4
    d = rj.data.make_regression(50, 4, seed=11)
    lams = np.logspace(-2, 3, 11)  # not a multiple of 4 devices

    def fit(lam, X, y):
        return rj.closed_form.ridge_solution(X, y, lam)

    result = rj.sweep(fit, lams, d.X, d.y)
    np.savez(out, w=np.asarray(result["w"]), b=np.asarray(result["b"]))
    jax.distributed.shutdown()


if __name__ == "__main__":
    main()
