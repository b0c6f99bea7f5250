"""The ``regjax`` command: ``regjax sweep``, ``regjax check``, ``regjax convert``.

``python -m regjax`` is the same command. Each subcommand has ``--help``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import jax
import numpy as np

from regjax import checking, conventions, data, paths

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


class _Progress:
    """A one-line progress bar on stderr: one step per stage."""

    def __init__(self, stages: int, enabled: bool) -> None:
        self.stages, self.done, self.enabled = stages, 0, enabled
        self.start = time.perf_counter()

    def __call__(self, stage: str) -> None:
        self.done += 1
        if self.enabled:
            filled = round(20 * self.done / self.stages)
            elapsed = time.perf_counter() - self.start
            bar = "#" * filled + "." * (20 - filled)
            print(f"[{bar}] {self.done}/{self.stages} {elapsed:5.1f}s  {stage}", file=sys.stderr)


def _sweep(args: argparse.Namespace) -> int:
    """Cross-validate a λ path on an embedded data set; print a table, write figures."""
    num, folds = (8, 3) if args.quick else (args.num, args.folds)
    progress = _Progress(4, not args.quiet)
    with jax.enable_x64(True):
        report = paths.run(
            args.data,
            model=args.model,
            penalty=args.penalty,
            num=num,
            min_ratio=args.min_ratio or (1e-4 if args.penalty == "l1" else 1e-7),
            folds=folds,
            seed=args.seed,
            progress=progress,
        )
    cv = report.cv
    print(
        f"{report.dataset}: m={report.m}, n={report.n}; {report.model} regression, "
        f"{report.penalty.upper()} penalty, library convention "
        f"(mean loss + λ/(2m)‖w‖²{' → λ/m‖w‖₁' if report.penalty == 'l1' else ''}); "
        f"{folds}-fold CV in {report.seconds['cross-validation']:.2f}s"
    )
    headers = ["λ", "train loss", "val loss", "± sd"]
    if report.val_error is not None:
        headers.append("val error")
    if report.loo is not None:
        headers += ["LOO ½MSE", "GCV ½MSE"]
    headers.append("")
    rows = []
    for g, lam in enumerate(cv.lams):
        row = [f"{lam:.4g}", f"{cv.train[g]:.5f}", f"{cv.val_mean[g]:.5f}", f"{cv.val_std[g]:.5f}"]
        if report.val_error is not None:
            row.append(f"{report.val_error[g]:.4f}")
        if report.loo is not None and report.gcv is not None:
            row += [f"{report.loo[g] / 2:.5f}", f"{report.gcv[g] / 2:.5f}"]
        marks = [name for name, v in (("best", cv.best_lam), ("1-SE", cv.lam_1se)) if v == lam]
        row.append(" ".join(marks))
        rows.append(row)
    print(_table(headers, rows))
    best = int(np.argmin(np.abs(cv.lams - cv.best_lam)))
    nonzero = int(np.count_nonzero(np.asarray(report.path["w"][best])))
    target = "sklearn_ridge_alpha" if report.model == "linear" else "sklearn_logreg_C"
    if report.penalty == "l1":
        target = "mean_l2"  # λ/m: sklearn Lasso's alpha, L1 on a mean loss
    other = conventions.convert_lambda(cv.best_lam, from_="ng", to=target, m=report.m)
    label = {"sklearn_ridge_alpha": "Ridge alpha", "sklearn_logreg_C": "LogisticRegression C"}
    print(
        f"chosen λ = {cv.best_lam:.6g} (one-standard-error λ = {cv.lam_1se:.6g}); "
        f"{label.get(target, 'per-example strength λ/m (Lasso alpha)')} = {other:.6g}; "
        f"nonzero weights at the best λ: {nonzero} of {np.size(report.path['w'][best])}"
    )
    if args.no_figures:
        progress("done")
        return 0
    progress("figures")
    try:
        from regjax import figures
    except ImportError as err:  # pragma: no cover
        print(f"no figures: {err}", file=sys.stderr)
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = f"{report.dataset}_{report.model}_{report.penalty}"
    written = [
        figures.validation_curve(
            cv,
            out / f"{name}_validation.png",
            title=f"{report.dataset}: {folds}-fold CV, {report.model} + {report.penalty}",
            ylabel="mean data loss",
        )
    ]
    if report.model != "softmax":
        written.append(
            figures.coefficient_paths(
                cv.lams,
                report.path["w"],
                out / f"{name}_path.png",
                title=f"{report.dataset}: coefficient paths ({report.penalty})",
                marks=(cv.best_lam,),
            )
        )
    for path in written:
        print(f"wrote {path}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="regjax",
        description="Regularized costs in JAX: gradient checks and λ conversions.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    sweep = sub.add_parser(
        "sweep",
        help="cross-validate a whole λ path on an embedded data set",
        description="Fit a whole regularization path (every λ at once) and cross-validate "
        "it (every fold and λ at once) on an embedded data set; print a table of λ / train "
        "/ validation loss and the chosen λ, and write the validation curve and coefficient "
        "paths as PNG figures.",
    )
    sweep.add_argument(
        "--data", default="breast_cancer", choices=sorted(data.DATASETS), help="data set"
    )
    sweep.add_argument(
        "--model", choices=paths.MODELS, help="model (default: from the data set's task)"
    )
    sweep.add_argument("--penalty", default="l2", choices=("l2", "l1"), help="penalty")
    sweep.add_argument("--num", type=int, default=30, help="number of λ values (default 30)")
    sweep.add_argument(
        "--min-ratio",
        type=float,
        help="λ_min/λ_max (default 1e-4 for l1; 1e-7 for l2, whose glmnet-style λ_max is "
        "1000 times the l1 one)",
    )
    sweep.add_argument("--folds", type=int, default=5, help="cross-validation folds (5)")
    sweep.add_argument("--seed", type=int, default=0, help="fold shuffle seed (0)")
    sweep.add_argument("--out", default=".", help="directory for the figures (default .)")
    sweep.add_argument("--no-figures", action="store_true", help="write no figures")
    sweep.add_argument("--quick", action="store_true", help="8 λ, 3 folds (a CI-sized run)")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.set_defaults(run=_sweep)

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
        return int(args.run(args))
    except (ValueError, TypeError) as err:
        print(f"regjax {args.command}: {err}", file=sys.stderr)
        return 2
