"""The ``regjax`` command: ``regjax sweep``, ``check``, ``convert`` and ``experiment``.

``python -m regjax`` is the same command. Each subcommand is a module of this package
(``add_parser`` registers it, ``run`` does it) and has ``--help``. The library never
imports this package.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import regjax
from regjax._checks import check_int, check_out_dir
from regjax.cli import check, convert, experiment, sweep
from regjax.cli._output import as_flags, flags_of, writes_figures

__all__ = ["main"]

_SUBCOMMANDS = (sweep, check, convert, experiment)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors: ``regjax convert: argument --m: invalid int
    value: 'x' (see regjax convert --help)``, exit 2 (the subcommands inherit it)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="regjax",
        description="Regularized costs in JAX: λ paths, gradient checks, λ conversions, "
        "the studies.",
    )
    parser.add_argument("--version", action="version", version=f"regjax {regjax.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _SUBCOMMANDS:
        command.add_parser(sub)
    return parser


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[command]


def _check_common(args: argparse.Namespace) -> None:
    """The flags several subcommands share, checked before any work: ``--seed`` (a
    jax.random seed, 0 to 2³² − 1: larger ones wrap onto small ones) and ``--out`` (a
    directory that can be written, created now, not after the computation)."""
    if getattr(args, "seed", None) is not None:
        check_int(args.seed, "--seed", low=0, high=2**32 - 1)
    if writes_figures(args):
        check_out_dir(args.out, "--out")
        try:
            Path(args.out).expanduser().mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ValueError(f"--out {args.out!r} cannot be created: {err.strerror}") from err


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``regjax`` command; returns the exit status (0 ok, 1 a failed check,
    2 bad input, 130 interrupted). Every user error is one line on stderr,
    ``regjax COMMAND: ...``, naming the flag the user typed; warnings are one line too.

    Example:
      >>> main(["convert", "1e-4", "--from", "keras_l2", "--to", "ng", "--m", "50000"])
      ... # doctest: +ELLIPSIS
      keras_l2 = 0.0001  ->  c = 0.0002 ...
      ng          10 ...
      0
    """
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # said by the subcommand's parser: `regjax check: unrecognized arguments: ...`
        _subparser(parser, args.command).error(f"unrecognized arguments: {' '.join(extra)}")
    prefix = f"regjax {args.command}"

    def one_line(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
        print(f"{prefix}: warning: {message}", file=sys.stderr)

    try:
        with warnings.catch_warnings():
            warnings.showwarning = one_line
            _check_common(args)
            return int(args.run(args))
    except (ValueError, TypeError, OSError) as err:
        if isinstance(err, BrokenPipeError):  # the reader left (`... --list | head -1`)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error
            return 0
        message = as_flags(str(err), flags_of(_subparser(parser, args.command)))
        print(f"{prefix}: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prefix}: interrupted", file=sys.stderr)
        return 130
