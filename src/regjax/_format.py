"""Plain-text tables: the one home of how regjax prints a report (the ``regjax``
command's tables, ``print(rj.check_grad(...))``, ``print(rj.cross_validate(...))``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["number", "table"]


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: a header line, a rule, one line per row (left-aligned).

    Every column has a header and every row one cell per header (a ``ValueError``
    otherwise: a column nobody can name, or a cell that would be dropped).

    Example:
      >>> print(table(["λ", "loss"], [["0.1", "0.25"], ["10", "0.5"]]))
      λ    loss
      ---  ----
      0.1  0.25
      10   0.5
    """
    blank = [i for i, h in enumerate(headers) if not h.strip()]
    if blank:
        raise ValueError(f"table: column {blank[0] + 1} of {list(headers)} has no header")
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(
                f"table: row {list(row)} has {len(row)} cells for {len(headers)} headers"
            )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join([line, rule, *body])


def number(value: float) -> str:
    """Six significant digits, or ``inf``.

    Example:
      >>> number(1 / 3), number(float("inf"))
      ('0.333333', 'inf')
    """
    return "inf" if math.isinf(value) else f"{value:.6g}"
