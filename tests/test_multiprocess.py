"""The same sweep in two processes (jax.distributed, gloo over localhost, 2 devices each)
gives the same path as one process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

import regjax as rj

WORKER = Path(__file__).with_name("multiprocess_worker.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_process_sweep_equals_one_process(tmp_path, x64):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    outs = [tmp_path / f"out{i}.npz" for i in range(2)]
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(i), str(port), str(outs[i])],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(2)
    ]
    logs = []
    for proc in procs:
        try:
            logs.append(proc.communicate(timeout=180)[0])
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            pytest.fail("two-process sweep timed out")
    for proc, log in zip(procs, logs):
        assert proc.returncode == 0, log[-3000:]

    d = rj.data.make_regression(50, 4, seed=11)
    lams = jnp.logspace(-2, 3, 11)
    single = rj.sweep(
        lambda lam, X, y: rj.closed_form.ridge_solution(X, y, lam), lams, d.X, d.y, devices=1
    )
    for out in outs:  # every process holds the whole gathered path
        got = np.load(out)
        np.testing.assert_allclose(got["w"], single["w"], rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(got["b"], single["b"], rtol=1e-12)
