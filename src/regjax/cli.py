"""The ``regjax`` command: ``regjax check``, ``regjax convert``.

``python -m regjax`` is the same command. Each subcommand has ``--help``.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence

import jax

from regjax import checking, conventions

__all__ = ["main"]


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join([line, rule, *body])


def _check(args: argparse.Namespace) -> int:
    """Gradient-check table for every built-in cost and penalty."""
    with jax.enable_x64(True):
        rows = []
        failed = 0
        for case in checking.builtin_cases(args.seed, lam=args.lam):
            report = checking.check_grad(case.cost, case.closed_grad, case.params, *case.args)
            failed += not report.ok
            rows.append(
                [
                    case.name,
                    f"{report.max_abs_err:.1e}",
                    f"{report.max_rel_err:.1e}",
                    f"{report.numerical_max_rel_err:.1e}",
                    "ok" if report.ok else "FAIL",
                ]
            )
    print(
        f"Gradient checks, float64, λ = {args.lam}: closed form vs jax.grad vs central differences"
    )
    print(
        _table(
            ["function", "abs err", "rel err (≤1e-10)", "vs numerical (≤1e-6)", "status"],
            rows,
        )
    )
    print(f"{len(rows) - failed} passed, {failed} failed")
    return 1 if failed else 0


def _format(value: float) -> str:
    return "inf" if math.isinf(value) else f"{value:.6g}"


def _convert(args: argparse.Namespace) -> int:
    """Convert a λ between conventions."""
    targets = sorted(conventions.CONVENTIONS) if args.to == "all" else [args.to]
    rows = []
    for name in targets:
        try:
            value = conventions.convert_lambda(
                args.value, from_=args.from_, to=name, m=args.m, n=args.n, learning_rate=args.lr
            )
            rows.append([name, _format(float(value)), conventions.CONVENTIONS[name]])
        except ValueError as err:
            if args.to != "all":
                print(f"regjax convert: {err}", file=sys.stderr)
                return 2
            rows.append([name, "-", f"({err})"])
    coefficient = conventions.to_coefficient(
        args.value, args.from_, m=args.m, n=args.n, learning_rate=args.lr
    )
    print(
        f"{args.from_} = {args.value:g}  ->  c = {_format(float(coefficient))} "
        "(coefficient of ½‖w‖² on a mean loss)"
    )
    print(_table(["convention", "value", "meaning"], rows))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="regjax",
        description="Regularized costs in JAX: gradient checks and λ conversions.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser(
        "check",
        help="gradient-check every built-in cost and penalty",
        description="Closed-form gradient vs jax.grad vs central differences, float64, "
        "for every built-in cost and penalty on small random problems.",
    )
    check.add_argument("--seed", type=int, default=0, help="random problem seed (default 0)")
    check.add_argument("--lam", type=float, default=0.7, help="λ, library convention (default 0.7)")
    check.set_defaults(run=_check)

    names = ", ".join(sorted(conventions.CONVENTIONS))
    convert = sub.add_parser(
        "convert",
        help="convert a regularization strength between conventions",
        description=f"Convert λ between conventions. Names: {names}.",
    )
    convert.add_argument("value", type=float, help="the strength in the --from convention")
    convert.add_argument(
        "--from", dest="from_", required=True, metavar="NAME", help="source convention"
    )
    convert.add_argument("--to", required=True, metavar="NAME", help="target convention, or 'all'")
    convert.add_argument("--m", type=int, help="number of training examples")
    convert.add_argument("--n", type=int, help="number of penalized weights")
    convert.add_argument("--lr", type=float, help="learning rate η")
    convert.set_defaults(run=_convert)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``regjax`` command; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except (ValueError, TypeError) as err:
        print(f"regjax {args.command}: {err}", file=sys.stderr)
        return 2
