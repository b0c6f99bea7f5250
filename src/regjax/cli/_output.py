"""What every subcommand prints with: tables, numbers, a progress bar on stderr."""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: a header line, a rule, one line per row (left-aligned)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join([line, rule, *body])


def writes_figures(args: argparse.Namespace) -> bool:
    """Whether a parsed command will write into ``args.out``: it has ``--out``, and
    neither ``--list`` nor ``--no-figures`` turned the figures off."""
    off = getattr(args, "list", False) or getattr(args, "no_figures", False)
    return getattr(args, "out", None) is not None and not off


def number(value: float) -> str:
    """Six significant digits, or ``inf``."""
    return "inf" if math.isinf(value) else f"{value:.6g}"


class Progress:
    """A one-line progress bar on stderr: one step per stage (``stages=None``: the
    elapsed time and the stage, for work whose length is not known ahead)."""

    def __init__(self, stages: int | None, enabled: bool) -> None:
        self.stages, self.done, self.enabled = stages, 0, enabled
        self.start = time.perf_counter()

    def __call__(self, stage: str) -> None:
        self.done += 1
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        if self.stages is None:
            print(f"[{elapsed:6.1f}s] {stage}", file=sys.stderr)
            return
        filled = round(20 * self.done / self.stages)
        bar = "#" * filled + "." * (20 - filled)
        print(f"[{bar}] {self.done}/{self.stages} {elapsed:5.1f}s  {stage}", file=sys.stderr)
