"""Shared by the bench/ scripts: the machine's description and RESULTS.md sections."""

from __future__ import annotations

import os
import platform
import re
import time
from pathlib import Path

import jax

RESULTS = Path(__file__).with_name("RESULTS.md")


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    try:
        match = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        return match.group(1).strip() if match else platform.processor()
    except OSError:
        return platform.processor() or "unknown CPU"


def machine_line(quick: bool = False) -> str:
    """One line: CPU, cores, load, JAX version and backend, date."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    device = jax.devices()[0]
    return (
        f"CPU: {cpu_model()}, {os.cpu_count()} cores; load average at start {load:.2f}; "
        f"jax {jax.__version__} ({jax.default_backend()}: {device.device_kind}), "
        f"{time.strftime('%Y-%m-%d %H:%M')}" + (" (--quick)" if quick else "")
    )


def record(name: str, title: str, text: str) -> None:
    """Write ``text`` into RESULTS.md between ``name``'s markers (a rerun replaces it);
    a new section gets the heading ``title``. On an accelerator the markers and the
    heading carry its platform (``bench_l1_path-gpu``, "L1 paths (GPU)"), so a run on a
    device machine adds its tables beside the CPU ones instead of replacing them."""
    platform = jax.devices()[0].platform
    if platform != "cpu":
        name, title = f"{name}-{platform}", f"{title} ({platform.upper()})"
    _write_section(RESULTS, name, title, text)


def _write_section(path: Path, name: str, title: str, text: str) -> None:
    """``text`` between ``name``'s markers in ``path``, replacing what was there, or in a
    new section headed ``title`` at the end."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{text}\n{end}"
    old = path.read_text() if path.exists() else "# Benchmark results\n"
    if start in old and end in old:
        new = old[: old.index(start)] + block + old[old.index(end) + len(end) :]
    else:
        new = f"{old.rstrip()}\n\n## {title}\n\n{block}\n"
    path.write_text(new)


def merge(source: Path, path: Path = RESULTS) -> list[str]:
    """Copy the accelerator sections (markers ``NAME-gpu`` or ``NAME-tpu``) of
    ``source``, a RESULTS.md written on a device machine by ``bench/device.sh``, into
    ``path``, each under the heading it had there; the names of the sections copied."""
    text, names = source.read_text(), []
    pattern = r"<!-- ([\w-]+-(?:gpu|tpu)):start -->\n(.*?)\n<!-- \1:end -->"
    for match in re.finditer(pattern, text, re.S):
        name, body = match.groups()
        heading = text.rfind("\n## ", 0, match.start()) + 4
        title = text[heading : text.index("\n", heading)] if heading >= 4 else name
        _write_section(path, name, title, body)
        names.append(name)
    return names


def best_of(fn, repeat: int = 3, pause: float = 0.0) -> float:
    """The fastest of ``repeat`` wall-clock runs of ``fn()`` (after one warm-up call), in s;
    ``fn`` must block until its result is ready (``jax.block_until_ready``). With
    ``pause``, each run starts after that many seconds idle: the time of one call, without
    what the previous run left behind (OpenBLAS's worker threads spin ~0.1 s after a
    LAPACK call, and on 2 cores take one from the next XLA GEMM)."""
    fn()
    times = []
    for _ in range(repeat):
        time.sleep(pause)
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def gemm_rate(dtype: str = "float64", size: int = 1024) -> float:
    """The machine's measured matrix-multiply rate through XLA, in FLOP/s: the best of a
    few ``size`` × ``size`` × ``size`` products (2·size³ FLOPs each) on the default
    device. The physical limit a GEMM-bound computation is measured against."""
    import jax.numpy as jnp

    a = jnp.ones((size, size), dtype) * 0.5
    b = jnp.ones((size, size), dtype) * 0.25
    matmul = jax.jit(jnp.matmul)
    seconds = best_of(lambda: matmul(a, b).block_until_ready(), repeat=5)
    return 2 * size**3 / seconds


def bandwidth(mbytes: int = 512) -> float:
    """The machine's measured memory read rate through XLA, in bytes/s: the best of a few
    sums of a ``mbytes`` MB float64 array on the default device. The physical limit of a
    computation that must read X (its bytes / this rate)."""
    import jax.numpy as jnp

    x = jnp.ones(mbytes * 2**20 // 8, "float64")
    total = jax.jit(jnp.sum)
    seconds = best_of(lambda: total(x).block_until_ready(), repeat=5)
    return x.size * 8 / seconds


def limits_line(flops: float, bytes_read: float, seconds: float) -> str:
    """How far ``seconds`` is from the physical limit of work of ``flops`` FLOPs (at the
    measured float64 GEMM rate) that must read ``bytes_read`` bytes (at the measured
    bandwidth): the larger of the two bounds, and the ratio."""
    rate, bw = gemm_rate(), bandwidth()
    bound = max(flops / rate, bytes_read / bw)
    return (
        f"physical limit: {flops:.3g} FLOPs at the measured float64 GEMM rate "
        f"{rate / 1e9:.3g} GFLOP/s = {flops / rate:.3g} s; {bytes_read / 1e6:.3g} MB at the "
        f"measured read bandwidth {bw / 1e9:.3g} GB/s = {bytes_read / bw:.3g} s; regjax "
        f"{seconds:.3g} s is {seconds / bound:.3g}× the larger bound"
    )


if __name__ == "__main__":  # python bench/_benchcommon.py merge RESULTS.md-from-a-device
    import sys

    if sys.argv[1:2] != ["merge"] or len(sys.argv) != 3:
        sys.exit("usage: python bench/_benchcommon.py merge PATH")
    print("merged:", ", ".join(merge(Path(sys.argv[2]))) or "no accelerator section")
