"""``regjax convert``: one regularization strength in other conventions."""

from __future__ import annotations

import argparse

from regjax import conventions
from regjax.cli._output import number, table


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``regjax convert``."""
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
    convert.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the coefficient c and a table of the target convention(s)."""
    targets = sorted(conventions.CONVENTIONS) if args.to == "all" else [args.to]
    rows = []
    for name in targets:
        try:
            value = conventions.convert_lambda(
                args.value, from_=args.from_, to=name, m=args.m, n=args.n, learning_rate=args.lr
            )
            rows.append([name, number(float(value)), conventions.CONVENTIONS[name]])
        except ValueError as err:
            if args.to != "all":
                raise  # the command's error: exit 2, naming the flag
            rows.append([name, "-", f"({err})"])
    coefficient = conventions.to_coefficient(
        args.value, args.from_, m=args.m, n=args.n, learning_rate=args.lr
    )
    print(
        f"{args.from_} = {args.value:g}  ->  c = {number(float(coefficient))} "
        "(coefficient of ½‖w‖² on a mean loss)"
    )
    print(table(["convention", "value", "meaning"], rows))
    return 0
