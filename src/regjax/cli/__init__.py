"""The ``regjax`` command: ``regjax sweep``, ``check``, ``convert`` and ``experiment``.

``python -m regjax`` is the same command. Each subcommand is a module of this package
(``add_parser`` registers it, ``run`` does it) and has ``--help``. The library never
imports this package.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence

import regjax
from regjax._checks import check_out_dir
from regjax.cli import check, convert, experiment, sweep
from regjax.cli._output import writes_figures

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


# The library's argument names whose command-line flag has another name.
_ALIASES = {"learning_rate": "lr"}


def _as_flags(message: str, parser: argparse.ArgumentParser, command: str) -> str:
    """A library error about an argument reworded with the flag the user typed: the
    name that starts it (``"min_ratio must be ..."`` → ``"--min-ratio must be ..."``)
    and keyword names (``"needs m="`` → ``"needs --m"``)."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    flags = {
        a.dest: a.option_strings[-1] if a.option_strings else (a.metavar or a.dest.upper())
        for a in sub.choices[command]._actions
        if a.dest != "help"
    }

    def flag(match: re.Match[str]) -> str:
        name = _ALIASES.get(match.group(1), match.group(1))
        return flags.get(name, match.group(0))

    message = re.sub(r"\b(\w+)=(?!\w)", flag, message)  # "needs m=" (not "m=10")
    return re.sub(r"^(\w+)(?= |$)", flag, message)


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
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if writes_figures(args):
            check_out_dir(args.out, "--out")
        return int(args.run(args))
    except (ValueError, TypeError) as err:
        print(
            f"regjax {args.command}: {_as_flags(str(err), parser, args.command)}", file=sys.stderr
        )
        return 2
    except BrokenPipeError:  # the reader left early (`regjax experiment --list | head -1`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error
        return 0
