"""The ``regjax`` command: ``regjax sweep``, ``check``, ``convert`` and ``experiment``.

``python -m regjax`` is the same command. Each subcommand is a module of this package
(``add_parser`` registers it, ``run`` does it) and has ``--help``. The library never
imports this package.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import regjax
from regjax.cli import check, convert, experiment, sweep

__all__ = ["main"]

_SUBCOMMANDS = (sweep, check, convert, experiment)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="regjax",
        description="Regularized costs in JAX: λ paths, gradient checks, λ conversions, "
        "the studies.",
    )
    parser.add_argument("--version", action="version", version=f"regjax {regjax.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in _SUBCOMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``regjax`` command; returns the exit status (0 ok, 1 a failed check,
    2 bad input).

    Example:
      >>> main(["convert", "1e-4", "--from", "keras_l2", "--to", "ng", "--m", "50000"])
      ... # doctest: +ELLIPSIS
      keras_l2 = 0.0001  ->  c = 0.0002 ...
      ng          10 ...
      0
    """
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (ValueError, TypeError) as err:
        print(f"regjax {args.command}: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader left early (`regjax experiment --list | head -1`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error
        return 0
