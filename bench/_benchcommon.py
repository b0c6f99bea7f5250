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
    a new section gets the heading ``title``."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{text}\n{end}"
    old = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if start in old and end in old:
        new = old[: old.index(start)] + block + old[old.index(end) + len(end) :]
    else:
        new = f"{old.rstrip()}\n\n## {title}\n\n{block}\n"
    RESULTS.write_text(new)
