"""What every subcommand prints with: tables, numbers, messages in the flags the user
typed, a progress bar on stderr."""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Mapping


def writes_figures(args: argparse.Namespace) -> bool:
    """Whether a parsed command will write into ``args.out``: it has ``--out``, and
    neither ``--list`` nor ``--no-figures`` turned the figures off."""
    off = getattr(args, "list", False) or getattr(args, "no_figures", False)
    return getattr(args, "out", None) is not None and not off


# The library's argument names whose command-line flag has another name.
_ALIASES = {"learning_rate": "lr"}


def flags_of(parser: argparse.ArgumentParser) -> dict[str, str]:
    """A subcommand's argument names (``dest``) -> the flag the user types (``--from``
    for ``from_``; a positional's metavar, ``VALUE``), library aliases included."""
    flags = {
        a.dest: a.option_strings[-1] if a.option_strings else str(a.metavar or a.dest.upper())
        for a in parser._actions
        if a.dest != "help"
    }
    flags.update({name: flags[alias] for name, alias in _ALIASES.items() if alias in flags})
    return flags


def as_flags(message: str, flags: Mapping[str, str]) -> str:
    """A library message about an argument, reworded with the flag the user typed.

    The library names an argument in two places: at the start (``"from_ must be ..."``,
    ``"m (the number of training examples) must be ..."``) and as a keyword
    (``"needs m="``, not ``"m=10"``); both become the flag. Other words stay.

    Example:
      >>> as_flags("convention 'ng' needs m=", {"m": "--m"})
      "convention 'ng' needs --m"
      >>> as_flags("from_ must be one of [...], got 'x'", {"from_": "--from"})
      "--from must be one of [...], got 'x'"
    """

    def flag(match: re.Match[str]) -> str:
        return flags.get(match.group(1), match.group(0))

    message = re.sub(r"\b(\w+)=(?!\w)", flag, message)
    return re.sub(r"^(\w+)(?=[ ,:]|$)", flag, message)


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
