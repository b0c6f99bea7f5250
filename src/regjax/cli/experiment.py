"""``regjax experiment``: run one study (its table, its answer, its PNGs) or list them."""

from __future__ import annotations

import argparse

from regjax import experiments
from regjax._format import table
from regjax.cli._output import Progress


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``regjax experiment``."""
    experiment = sub.add_parser(
        "experiment",
        help="run one of the studies of the classic regularization questions",
        description="Run a study: print its table and its answer, write its figures. "
        "`regjax experiment --list` names the studies and their questions.",
    )
    experiment.add_argument("name", nargs="?", metavar="NAME", help="the study to run")
    experiment.add_argument(
        "--list", action="store_true", help="print each study's name and question, then stop"
    )
    experiment.add_argument("--quick", action="store_true", help="a CI-sized run")
    experiment.add_argument("--out", default=".", help="directory for the figures (default .)")
    experiment.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    experiment.add_argument("--quiet", action="store_true", help="no progress lines")
    experiment.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """``--list``: one study a line. Otherwise run NAME and print what it measured."""
    if args.list:
        if args.name is not None:
            raise ValueError(f"--list takes no NAME, got {args.name!r}")
        for name in experiments.names():
            print(f"{name}  {experiments.question(name)}")
        return 0
    if args.name is None:
        raise ValueError("NAME is required (or --list); one of " + ", ".join(experiments.names()))
    if args.name not in experiments.names():
        raise ValueError(f"NAME must be one of {', '.join(experiments.names())}; got {args.name!r}")
    progress = Progress(None, not args.quiet)
    study = experiments.run(
        args.name, quick=args.quick, out=args.out, key=args.seed, progress=progress
    )
    print(study.question)
    print()
    print(table(study.data["table"].headers, study.data["table"].rows))
    print()
    print(study.answer)
    for path in study.figures:
        print(f"wrote {path}")
    return 0
