"""``regjax check``: the gradient-check table of every built-in cost and penalty."""

from __future__ import annotations

import argparse

import jax
import numpy as np

from regjax import checking
from regjax._checks import check_lam
from regjax._format import table


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``regjax check``."""
    check = sub.add_parser(
        "check",
        help="gradient-check every built-in cost and penalty",
        description="Closed-form gradient vs jax.grad vs central differences, float64, "
        "for every built-in cost and penalty on small random problems.",
    )
    check.add_argument("--seed", type=int, default=0, help="random problem seed (default 0)")
    check.add_argument("--lam", type=float, default=0.7, help="λ, library convention (default 0.7)")
    check.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print one row per case; exit 1 if any fails."""
    check_lam(args.lam, "--lam")
    rows = []
    with jax.enable_x64(True), np.errstate(over="ignore", invalid="ignore"):
        try:
            for case in checking.builtin_cases(args.seed, lam=args.lam):
                report = checking.check_grad(case.cost, case.closed_grad, case.params, *case.args)
                rows.append(
                    [
                        case.name,
                        f"{report.max_abs_err:.1e}",
                        f"{report.max_rel_err:.1e}",
                        f"{report.numerical_max_rel_err:.1e}",
                        "ok" if report.ok else "FAIL",
                    ]
                )
        except ValueError as err:  # a λ so large that the costs overflow
            what = str(err).split(":")[0]  # not the advice, which is for the library's users
            raise ValueError(f"--lam {args.lam:g} is too large: {what}") from err
    failed = sum(row[-1] == "FAIL" for row in rows)
    print(
        f"Gradient checks, float64, λ = {args.lam}: closed form vs jax.grad vs central differences"
    )
    headers = ["function", "abs err", "rel err (≤1e-10)", "vs numerical (≤1e-6)", "status"]
    print(table(headers, rows))
    print(f"{len(rows) - failed} passed, {failed} failed")
    return 1 if failed else 0
