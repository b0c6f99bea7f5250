r"""``regjax sweep``: a whole regularization path, cross-validated, on a data set.

For a data set (embedded, or the user's CSV/NPZ file: ``--data PATH``), a model
(``linear``, ``logistic``, ``softmax``) and a penalty (``l2``, ``l1``, ``elastic_net``),
:func:`cross_validated_path` builds the λ grid (:func:`regjax.lambda_grid`),
cross-validates the whole grid — every fold and every λ in one computation, each fit
scored by its mean data loss and (classification) its error rate — and fits the path on
all the data with :mod:`regjax.paths`. The command prints the table and the chosen λ,
and writes the validation curve and the coefficient paths as PNG figures.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from regjax import _checks, closed_form, conventions, data, hypergrad, models, paths, selection
from regjax._format import table
from regjax._typing import Score
from regjax.cli._output import Progress

MODELS = ("linear", "logistic", "softmax")
PENALTIES = {"l2": 0.0, "l1": 1.0, "elastic_net": None}  # the l1_ratio of each
DEFAULT_MODEL = {"regression": "linear", "binary": "logistic", "multiclass": "softmax"}


class SweepReport(NamedTuple):
    """What :func:`cross_validated_path` found: the grid, the CV, the path on all data."""

    dataset: str
    model: str
    penalty: str
    l1_ratio: float
    m: int
    n: int
    cv: selection.CVResult  # scored by the unregularized mean data loss
    val_error: np.ndarray | None  # validation error rate per λ (classification)
    path: paths.Path  # fitted on all the data
    loo: np.ndarray | None  # ridge: exact leave-one-out error per λ
    gcv: np.ndarray | None
    tuned: hypergrad.Tuned | None  # --tune: the CV loss minimized by hypergradient
    seconds: dict[str, float]


def _scores(model: str) -> dict[str, Score]:
    data_loss = hypergrad.MODELS[model][1]

    def loss(params: dict, X: jax.Array, y: jax.Array) -> jax.Array:
        return data_loss(models.linear(params, X), y)

    def error(params: dict, X: jax.Array, y: jax.Array) -> jax.Array:
        z = models.linear(params, X)
        predicted = (z > 0).astype(y.dtype) if model == "logistic" else jnp.argmax(z, axis=1)
        return jnp.mean((predicted != y).astype(X.dtype))

    return {"loss": loss} if model == "linear" else {"loss": loss, "error": error}


def _path_solver(model: str, l1_ratio: float, num_classes: int) -> Callable[..., paths.Path]:
    if model == "linear":
        return lambda lams, X, y: paths.linear(X, y, lams, l1_ratio=l1_ratio)
    if model == "logistic":
        return lambda lams, X, y: paths.logistic(X, y, lams, l1_ratio=l1_ratio)
    return lambda lams, X, y: paths.softmax(X, y, lams, l1_ratio=l1_ratio, num_classes=num_classes)


def _as_dataset(dataset: str | Path | data.Dataset) -> data.Dataset:
    """A :class:`regjax.data.Dataset`, loaded by name or path if need be; its task checked."""
    ds = dataset if isinstance(dataset, data.Dataset) else data.load(dataset)
    _checks.check_choice(ds.task, "task", data.TASKS)
    return ds


def cross_validated_path(
    dataset: str | Path | data.Dataset = "breast_cancer",
    *,
    model: str | None = None,
    penalty: str = "l2",
    l1_ratio: float = 0.5,
    num: int = 30,
    min_ratio: float = 1e-4,
    folds: int = 5,
    seed: int = 0,
    tune: bool = False,
    progress: Callable[[str], None] | None = None,
) -> SweepReport:
    """Cross-validate a whole λ path of a built-in model on a data set.

    Args:
      dataset: an embedded data set's name (:data:`regjax.data.DATASETS`), a CSV/NPZ
        file's path (:func:`regjax.data.load`) or a :class:`regjax.data.Dataset`.
      model: ``"linear"``, ``"logistic"`` or ``"softmax"`` (default: from the task).
      penalty: ``"l2"``, ``"l1"`` or ``"elastic_net"``.
      l1_ratio: ρ of the elastic net (ignored for the other penalties).
      num: grid size.
      min_ratio: smallest λ as a fraction of λ_max.
      folds: cross-validation folds.
      seed: the fold shuffle.
      tune: also tune λ on the same CV loss by hypergradient (:func:`_tune`).
      progress: called with the name of each stage as it starts.

    Returns:
      A :class:`SweepReport`.

    Example:
      >>> report = cross_validated_path("diabetes", num=4, folds=3)   # ridge path, exact
      >>> report.model, report.cv.val.shape, report.path.params["w"].shape
      ('linear', (3, 4), (4, 10))
    """
    ds = _as_dataset(dataset)
    model = model or DEFAULT_MODEL[ds.task]
    _checks.check_choice(model, "model", MODELS)
    _checks.check_choice(penalty, "penalty", PENALTIES)
    if (model == "linear") != (ds.task == "regression"):
        raise ValueError(f"model {model!r} does not fit the {ds.task} data set {ds.name!r}")
    rho = PENALTIES[penalty]
    rho = l1_ratio if rho is None else rho
    _checks.check_fraction(rho, "l1_ratio")
    say = progress or (lambda stage: None)
    dtype = jnp.zeros(()).dtype
    X = jnp.asarray(ds.X, dtype=dtype)
    y = jnp.asarray(ds.y) if model == "softmax" else jnp.asarray(ds.y, dtype=dtype)
    num_classes = int(np.max(ds.y)) + 1 if model == "softmax" else 1

    say("λ grid")
    lams = selection.lambda_grid(ds.X, ds.y, model=model, num=num, min_ratio=min_ratio,
                                 penalty="l2" if rho == 0 else "l1").astype(dtype)  # fmt: skip
    solver = _path_solver(model, rho, num_classes)

    say(f"{folds}-fold cross-validation of {num} λ (compiles first)")
    start = time.perf_counter()
    key = jax.random.key(seed)
    cv = selection.cross_validate(solver, _scores(model), X, y, lams, folds=folds, key=key,
                                  batched=True)  # fmt: skip
    seconds = {"cross-validation": time.perf_counter() - start}

    say("path on all the data")
    start = time.perf_counter()
    path = jax.tree.map(np.asarray, solver(lams, X, y))
    loo = gcv = None
    if model == "linear" and rho == 0:
        loo, gcv = (np.asarray(v) for v in closed_form.ridge_loo_gcv(X, y, lams))
    seconds["full path"] = time.perf_counter() - start
    tuned = None
    if tune:
        say("hypergradient tuning of λ on the same folds")
        start = time.perf_counter()
        tuned = _tune(model, X, y, np.asarray(lams), folds=folds, key=key, l1_ratio=rho)
        seconds["tuning"] = time.perf_counter() - start
    val_error = cv["error"].val_mean if "error" in cv else None
    m, n = ds.X.shape
    return SweepReport(ds.name, model, penalty, rho, m, n, cv["loss"], val_error, path, loo, gcv,
                       tuned, seconds)  # fmt: skip


def _tune(
    model: str, X: jax.Array, y: jax.Array, lams: np.ndarray, **options: Any
) -> hypergrad.Tuned:
    """λ tuned on the CV loss from the grid's geometric middle, within [λ_min/100, λ_max]."""
    objective = hypergrad.path_cv(model, X, y, **options)
    middle = float(np.sqrt(lams[0] * lams[-1]))
    return hypergrad.tune(objective, middle, bounds=(float(lams[-1]) / 100, float(lams[0])))


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``regjax sweep``."""
    sweep = sub.add_parser(
        "sweep",
        help="cross-validate a whole λ path on an embedded data set or your CSV/NPZ file",
        description="Fit a whole regularization path (every λ at once) and cross-validate "
        "it (every fold and λ at once) on an embedded data set or your own CSV/NPZ file; "
        "print a table of λ / train / validation loss and the chosen λ, and write the "
        "validation curve and coefficient paths as PNG figures.",
    )
    sweep.add_argument(
        "--data",
        default="breast_cancer",
        metavar="NAME|PATH",
        help=f"an embedded data set ({', '.join(sorted(data.DATASETS))}; default "
        "breast_cancer) or a .csv file (header detected; the target the last column unless "
        "--target) or a .npz file (arrays X and y)",
    )
    sweep.add_argument(
        "--target",
        metavar="COLUMN",
        help="the target column of a --data CSV file (a header name or an index from 0; "
        "default the last column), or the target array of an NPZ file (default y)",
    )
    sweep.add_argument(
        "--task",
        choices=data.TASKS,
        help="the task of a --data file (default: inferred; text labels or integers with at "
        f"most {data.MAX_CLASSES} distinct values are classes)",
    )
    sweep.add_argument(
        "--no-standardize",
        action="store_true",
        help="use a --data file's columns as they are (default: each standardized to mean 0 "
        "and standard deviation 1, as the embedded sets are, so one λ weighs every column alike)",
    )
    sweep.add_argument("--model", choices=MODELS, help="model (default: from the data set's task)")
    sweep.add_argument("--penalty", default="l2", choices=tuple(PENALTIES), help="penalty (l2)")
    sweep.add_argument(
        "--l1-ratio", type=float, default=0.5, help="ρ of --penalty elastic_net (default 0.5)"
    )
    sweep.add_argument("--num", type=int, default=30, help="number of λ values (default 30)")
    sweep.add_argument(
        "--min-ratio",
        type=float,
        help="λ_min/λ_max (default 1e-4 for l1 and elastic_net; 1e-7 for l2, whose "
        "glmnet-style λ_max is 1000 times the l1 one)",
    )
    sweep.add_argument("--folds", type=int, default=5, help="cross-validation folds (5)")
    sweep.add_argument("--seed", type=int, default=0, help="fold shuffle seed (0)")
    sweep.add_argument("--out", default=".", help="directory for the figures (default .)")
    sweep.add_argument("--no-figures", action="store_true", help="write no figures")
    sweep.add_argument("--quick", action="store_true", help="8 λ, 3 folds (a CI-sized run)")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.add_argument(
        "--tune",
        action="store_true",
        help="also tune λ by hypergradient descent on the same CV loss (from the grid's "
        "geometric middle) and report it next to the grid's best",
    )
    sweep.set_defaults(run=run)


def _rows(report: SweepReport) -> tuple[list[str], list[list[str]]]:
    cv = report.cv
    headers = ["λ", "train loss", "val loss", "± sd"]
    headers += ["val error"] * (report.val_error is not None)
    headers += ["LOO ½MSE", "GCV ½MSE"] * (report.loo is not None)
    headers.append("chosen")
    rows = []
    for g, lam in enumerate(cv.lams):
        row = [f"{lam:.4g}", f"{cv.train[g]:.5f}", f"{cv.val_mean[g]:.5f}", f"{cv.val_std[g]:.5f}"]
        if report.val_error is not None:
            row.append(f"{report.val_error[g]:.4f}")
        if report.loo is not None and report.gcv is not None:
            row += [f"{report.loo[g] / 2:.5f}", f"{report.gcv[g] / 2:.5f}"]
        row.append(
            " ".join(k for k, v in (("best", cv.best_lam), ("1-SE", cv.lam_1se)) if v == lam)
        )
        rows.append(row)
    return headers, rows


def _summary(report: SweepReport) -> str:
    cv = report.cv
    best = int(np.argmin(np.abs(cv.lams - cv.best_lam)))
    w = np.asarray(report.path.params["w"][best])
    if report.l1_ratio > 0:
        other, label = cv.best_lam / report.m, "per-example strength λ/m (sklearn alpha)"
    elif report.model == "linear":
        label = "Ridge alpha"
        other = conventions.convert_lambda(
            cv.best_lam, from_="ng", to="sklearn_ridge_alpha", m=report.m
        )
    else:
        label = "LogisticRegression C"
        other = conventions.convert_lambda(
            cv.best_lam, from_="ng", to="sklearn_logreg_C", m=report.m
        )
    summary = (
        f"chosen λ = {cv.best_lam:.6g} (one-standard-error λ = {cv.lam_1se:.6g}); "
        f"{label} = {float(other):.6g}; nonzero weights at the best λ: "
        f"{int(np.count_nonzero(w))} of {w.size}"
    )
    tuned = report.tuned
    if tuned is not None:
        evaluations = len(tuned.history)
        summary += (
            f"\ntuned λ = {float(tuned.lam):.6g}: CV loss {tuned.value:.6g} after "
            f"{evaluations} evaluations ({tuned.fits} fits; {tuned.reason}); the grid's best "
            f"λ = {cv.best_lam:.6g}: CV loss {float(np.min(cv.val_mean)):.6g} "
            f"({cv.val.size} fits)"
        )
    return summary


def _figures(report: SweepReport, out: Path, folds: int) -> list[Path]:
    from regjax import figures

    figures.pyplot()  # ImportError without matplotlib, before anything is written
    out.mkdir(parents=True, exist_ok=True)
    cv, name = report.cv, f"{report.dataset}_{report.model}_{report.penalty}"
    title = f"{report.dataset}: {folds}-fold CV, {report.model} + {report.penalty}"
    written = [
        figures.validation_curve(
            cv, out / f"{name}_validation.png", title=title, ylabel="mean data loss"
        )
    ]
    if report.model != "softmax":
        written.append(
            figures.coefficient_paths(
                cv.lams,
                report.path.params["w"],
                out / f"{name}_path.png",
                title=f"{report.dataset}: coefficient paths ({report.penalty})",
                marks=(cv.best_lam,),
            )
        )
    return written


def _dataset(args: argparse.Namespace) -> data.Dataset:
    """The ``--data`` set: an embedded name or a file (errors name the flags)."""
    if data.is_path(args.data):
        path = Path(args.data).expanduser()
        if not path.is_file():
            what = "is a directory, not a file" if path.is_dir() else "no such file"
            raise ValueError(f"--data {args.data!r}: {what}")
    elif args.data not in data.DATASETS:
        raise ValueError(
            f"--data must be an embedded data set ({', '.join(sorted(data.DATASETS))}) or "
            f"the path of a .csv or .npz file, got {args.data!r}"
        )
    ds = data.load(args.data, target=args.target, task=args.task)
    if data.is_path(args.data) and not args.no_standardize:
        ds = ds._replace(X=data.standardize(ds.X))
    return ds


def run(args: argparse.Namespace) -> int:
    """Cross-validate, print the table and the chosen λ, write the figures."""
    ds = _dataset(args)
    num, folds = (8, 3) if args.quick else (args.num, args.folds)
    progress = Progress(5 if args.tune else 4, not args.quiet)
    min_ratio = (
        args.min_ratio if args.min_ratio is not None else (1e-7 if args.penalty == "l2" else 1e-4)
    )
    with jax.enable_x64(True):
        report = cross_validated_path(
            ds, model=args.model, penalty=args.penalty, l1_ratio=args.l1_ratio, num=num,
            min_ratio=min_ratio, folds=folds, seed=args.seed, tune=args.tune, progress=progress,
        )  # fmt: skip
    penalty = (
        "λ/(2m)‖w‖²"
        if report.l1_ratio == 0
        else f"λ/m(ρ‖w‖₁ + (1−ρ)/2‖w‖²), ρ = {report.l1_ratio:g}"
    )
    print(
        f"{report.dataset}: m={report.m}, n={report.n}; {report.model} regression, "
        f"{report.penalty} penalty, library convention (mean loss + {penalty}); "
        f"{folds}-fold CV in {report.seconds['cross-validation']:.2f}s"
    )
    if ds.classes is not None:
        print("classes: " + ", ".join(f"{k} = {name}" for k, name in enumerate(ds.classes)))
    print(table(*_rows(report)))
    print(_summary(report))
    if args.no_figures:
        progress("done")
        return 0
    progress("figures")
    try:
        written = _figures(report, Path(args.out), folds)
    except ImportError as err:  # matplotlib is the optional extra regjax[plot]
        print(f"regjax sweep: no figures ({err}; or pass --no-figures)", file=sys.stderr)
        return 0
    for path in written:
        print(f"wrote {path}")
    return 0
