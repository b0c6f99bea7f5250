"""``regjax convert``: one regularization strength in other conventions, with the
conditions under which each conversion holds."""

from __future__ import annotations

import argparse
import warnings

from regjax import conventions
from regjax._format import number, table
from regjax.cli._output import as_flags, flags_of

# The names whose strength PyTorch and Optax apply to every parameter.
_EVERY_PARAMETER = {"torch_weight_decay", *conventions.DECOUPLED}

SGD_ONLY = (
    "equivalent under plain SGD only; with Adam-type optimizers no λ is equivalent (the "
    "decay is not rescaled by the preconditioner; Loshchilov & Hutter 2019, "
    "arXiv:1711.05101): name yours with --optimizer"
)
BIASES = (
    "PyTorch's weight_decay and optax.adamw / add_decayed_weights decay every parameter, "
    "biases and norm scales included; regjax's default mask leaves those alone, and "
    "mask=True (decay every leaf) reproduces such a recipe"
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``regjax convert``."""
    names = ", ".join(conventions.CONVENTIONS)
    kinds: dict[str, list[str]] = {}
    for name, kind in conventions.OPTIMIZERS.items():
        kinds.setdefault(kind, []).append(name)
    convert = sub.add_parser(
        "convert",
        help="convert a regularization strength between conventions",
        description=f"Convert λ between conventions. Names: {names}.",
    )
    convert.add_argument(
        "value", type=float, metavar="VALUE", help="the strength in the --from convention"
    )
    convert.add_argument(
        "--from", dest="from_", required=True, metavar="NAME", help="source convention"
    )
    convert.add_argument("--to", required=True, metavar="NAME", help="target convention, or 'all'")
    convert.add_argument("--m", type=int, help="number of training examples")
    convert.add_argument("--n", type=int, help="number of penalized weights")
    convert.add_argument("--lr", type=float, help="learning rate η")
    convert.add_argument(
        "--optimizer",
        type=str.lower,
        metavar="NAME",
        help="the optimizer the strength is used with: plain "
        f"{', '.join(kinds['sgd'])}; with momentum {', '.join(kinds['momentum'])}; "
        f"adaptive {', '.join(kinds['adaptive'])}. Between a penalty and a decoupled decay, "
        "the conversion holds under plain SGD only (default: say so)",
    )
    convert.set_defaults(run=run, flags=flags_of(convert))


def _condition(from_: str, to: str, optimizer: str | None) -> str:
    """Under which optimizers ``from_`` and ``to`` are the same; ``*`` marks a footnote."""
    if not conventions.sgd_only(from_, to):
        both_decoupled = {from_, to} == conventions.DECOUPLED
        return "any optimizer, constant η" if both_decoupled else "any optimizer"
    if optimizer == "sgd":
        return "plain SGD"
    if optimizer is None:
        return "plain SGD only *"
    return f"plain SGD only, not {optimizer} *"


def run(args: argparse.Namespace) -> int:
    """Print the coefficient c, a table of the target convention(s) and the conditions."""
    kwargs = {"m": args.m, "n": args.n, "learning_rate": args.lr}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", conventions.ConversionWarning)
        values = conventions.convert_lambda(
            args.value, from_=args.from_, to=args.to, optimizer=args.optimizer or "sgd", **kwargs
        )
    notes = []  # the ConversionWarnings become notes under the table; others stay warnings
    for caught_warning in caught:
        if issubclass(caught_warning.category, conventions.ConversionWarning):
            notes.append(str(caught_warning.message))
        else:
            warnings.warn(caught_warning.message, stacklevel=1)
    if args.to != "all":
        values = {args.to: values}
    rows = []
    for name in values if args.to != "all" else conventions.CONVENTIONS:
        condition = _condition(args.from_, name, args.optimizer)
        if name in values:
            rows.append(
                [name, number(float(values[name])), condition, conventions.CONVENTIONS[name]]
            )
        else:
            reason = as_flags(f"(needs {conventions.NEEDS[name]}=)", args.flags)
            rows.append([name, "-", condition, reason])
    coefficient = conventions.to_coefficient(args.value, args.from_, **kwargs)
    print(
        f"{args.from_} = {args.value:g}  ->  c = {number(float(coefficient))} "
        "(coefficient of ½‖w‖² on a mean loss)"
    )
    print(table(["convention", "value", "equivalent under", "meaning"], rows))
    if args.optimizer is None and any(row[2].endswith("*") for row in rows):
        notes.append(SGD_ONLY)
    for note in notes:
        print(f"* {note}")
    if _EVERY_PARAMETER & {args.from_, *values}:
        print(f"note: {BIASES}")
    return 0
