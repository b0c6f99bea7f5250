"""Embedded data sets, synthetic generators and the user's own CSV/NPZ files; nothing is
downloaded at run time.

The three real data sets are copies of the ones scikit-learn ships (BSD-3-Clause
licence; the original sources are the UCI repository and Efron et al. 2004), stored
gzipped inside this package:

* :func:`load_breast_cancer` — Wisconsin diagnostic breast cancer, 569 × 30, binary;
* :func:`load_digits` — 8×8 handwritten digits, 1797 × 64, ten classes;
* :func:`load_diabetes` — diabetes progression, 442 × 10, regression.

A file of your own is read by :func:`load_file` (or :func:`load` with its path): a CSV
(header detected, the target a column) or an NPZ (arrays ``X`` and ``y``), with the task
inferred from the target or given.

Arrays come back as NumPy float64 (multiclass labels as int64); convert with
``jnp.asarray`` under the dtype you want.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import zipfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from regjax import _checks

__all__ = [
    "DATASETS",
    "MAX_CLASSES",
    "TASKS",
    "Dataset",
    "is_path",
    "load",
    "load_breast_cancer",
    "load_diabetes",
    "load_digits",
    "load_file",
    "make_classification",
    "make_regression",
    "standardize",
]


TASKS = ("regression", "binary", "multiclass")
MAX_CLASSES = 20  # an integer target with more distinct values is read as a regression


class Dataset(NamedTuple):
    """A data set: inputs X (m, n), targets y (m,), its task and its name.

    ``task`` is one of :data:`TASKS`, and says what y holds and which model fits it:

    * ``"regression"`` — real values (float64); ``linear``;
    * ``"binary"`` — labels in {0, 1} (float64); ``logistic``;
    * ``"multiclass"`` — classes 0 … K−1 (int64); ``softmax``.

    ``classes`` (files only) is the label the file gave each class index, in sorted
    order (``classes[k]`` is class k); None for a regression and the embedded sets.

    Example:
      >>> Dataset(np.zeros((2, 1)), np.array([0.0, 1.0]), "binary", "tiny").classes is None
      True
    """

    X: np.ndarray
    y: np.ndarray
    task: str
    name: str
    classes: tuple[str, ...] | None = None


def _read(name: str) -> bytes:
    return gzip.decompress((resources.files("regjax") / "datasets" / name).read_bytes())


def standardize(X: np.ndarray) -> np.ndarray:
    """Columns centred to mean 0 and scaled to unit standard deviation (constant columns
    are only centred).

    Example:
      >>> standardize(np.array([[1.0, 5.0], [3.0, 5.0]]))
      array([[-1.,  0.],
             [ 1.,  0.]])
    """
    X = np.asarray(X, dtype=np.float64)
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)


def load_breast_cancer(*, standardized: bool = True) -> Dataset:
    """Wisconsin diagnostic breast cancer: 569 examples, 30 features, y = 1 for benign.

    Example:
      >>> data = load_breast_cancer()
      >>> data.X.shape, int(data.y.sum())
      ((569, 30), 357)
    """
    table = np.loadtxt(io.BytesIO(_read("breast_cancer.csv.gz")), delimiter=",", skiprows=1)
    X, y = table[:, :-1], table[:, -1]
    return Dataset(standardize(X) if standardized else X, y, "binary", "breast_cancer")


def load_digits(*, scaled: bool = True) -> Dataset:
    """8×8 digits: 1797 examples, 64 pixel features (0–16; divided by 16 when ``scaled``),
    integer labels 0–9.

    Example:
      >>> data = load_digits()
      >>> data.X.shape, data.y.dtype, float(data.X.max())
      ((1797, 64), dtype('int64'), 1.0)
    """
    table = np.loadtxt(io.BytesIO(_read("digits.csv.gz")), delimiter=",")
    X, y = table[:, :-1], table[:, -1].astype(np.int64)
    return Dataset(X / 16.0 if scaled else X, y, "multiclass", "digits")


def load_diabetes(*, standardized: bool = True) -> Dataset:
    """Diabetes progression (Efron et al. 2004): 442 examples, 10 features, real target.

    Example:
      >>> data = load_diabetes()
      >>> data.X.shape, float(data.y[0])
      ((442, 10), 151.0)
    """
    table = np.loadtxt(io.BytesIO(_read("diabetes.txt.gz")))
    X, y = table[:, :-1], table[:, -1]
    return Dataset(standardize(X) if standardized else X, y, "regression", "diabetes")


DATASETS: dict[str, Callable[[], Dataset]] = {
    "breast_cancer": load_breast_cancer,
    "digits": load_digits,
    "diabetes": load_diabetes,
}


def is_path(name: str | os.PathLike[str]) -> bool:
    """Whether ``name`` means a file: a path object, an existing file, or a name ending
    in ``.csv`` or ``.npz`` (the rule :func:`load` and ``regjax sweep --data`` follow).

    Example:
      >>> is_path("digits"), is_path("wine.csv")
      (False, True)
    """
    if not isinstance(name, str):
        return True
    return Path(name).is_file() or name.lower().endswith((".csv", ".npz"))


def load(
    name: str | os.PathLike[str], *, target: str | int | None = None, task: str | None = None
) -> Dataset:
    """Load an embedded data set by name (``breast_cancer``, ``digits``, ``diabetes``),
    or a CSV/NPZ file by its path (:func:`is_path`; see :func:`load_file`).

    Args:
      name: an embedded data set's name or a file's path.
      target: the file's target column or array (:func:`load_file`); files only.
      task: one of :data:`TASKS`; for an embedded set it must be its own.

    Returns:
      A :class:`Dataset`.

    Example:
      >>> load("diabetes").task
      'regression'
    """
    if is_path(name):
        return load_file(name, target=target, task=task)
    if name not in DATASETS:
        options = f"{sorted(DATASETS)} or the path of a .csv or .npz file"
        raise ValueError(f"name must be one of {options}, got {name!r}")
    if task is not None:
        _checks.check_choice(task, "task", TASKS)
    if target is not None:
        raise ValueError(f"target picks a column of a CSV/NPZ file, not of the embedded {name!r}")
    dataset = DATASETS[str(name)]()
    if task is not None and task != dataset.task:
        raise ValueError(f"task {task!r} does not fit the embedded {name!r} ({dataset.task})")
    return dataset


_MISSING = {"", "na", "n/a", "nan", "null", "none", "?"}  # cells read as missing values


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _csv_records(path: Path) -> list[tuple[int, list[str]]]:
    """The non-blank rows of a CSV file, each with its row number (the header is 1)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not a UTF-8 text (CSV) file ({err.reason})") from err
    reader = csv.reader(io.StringIO(text))
    rows = ([cell.strip() for cell in row] for row in reader)
    records = [(reader.line_num, row) for row in rows if any(row)]
    if not records:
        raise ValueError(f"{path}: the file holds no rows")
    width = len(records[0][1])
    for line, row in records:
        if len(row) != width:
            raise ValueError(f"{path}: row {line} has {len(row)} columns, the first has {width}")
    if width < 2:
        raise ValueError(f"{path}: needs 2 or more comma-separated columns, found 1")
    return records


def _has_header(rows: list[list[str]]) -> bool:
    """The first row is a header when one of its cells is text in a column whose later
    cells are numbers (or missing); with no later row, when any of its cells is text."""
    first, rest = rows[0], rows[1:]
    if not rest:
        return not all(_is_number(cell) for cell in first)
    for j, cell in enumerate(first):
        below = [row[j] for row in rest if row[j].lower() not in _MISSING]
        if not _is_number(cell) and below and all(_is_number(c) for c in below):
            return True
    return False


def _target_column(target: Any, header: list[str] | None, width: int, path: Path) -> int:
    """The index of the target column: a header name, an index (negative from the end,
    a string of digits too) or, by default, the last column."""
    if target is None:
        return width - 1
    if isinstance(target, str):
        if header is not None and target in header:
            return header.index(target)
        if not target.lstrip("-").isdigit():
            names = f"columns: {', '.join(header)}" if header else f"no header: 0 … {width - 1}"
            raise ValueError(f"target {target!r} is not a column of {path} ({names})")
        target = int(target)
    if isinstance(target, bool) or not isinstance(target, int | np.integer):
        raise TypeError(f"target must be a column name or index, got {target!r}")
    if not -width <= target < width:
        raise ValueError(f"target {target} is out of range: {path} has {width} columns")
    return int(target) % width


def _read_csv(path: Path, target: Any) -> tuple[np.ndarray, np.ndarray, str]:
    """X (m, n) as float64, the target column (float64, or str if any cell is text) and
    how to name it in a message."""
    records = _csv_records(path)
    header = records[0][1] if _has_header([row for _, row in records]) else None
    body = records[1:] if header is not None else records
    if not body:
        raise ValueError(f"{path}: the file holds a header and no data rows")
    lines, cells = [n for n, _ in body], np.array([row for _, row in body], dtype=str)
    width = cells.shape[1]
    t = _target_column(target, header, width, path)
    label = [repr(h) for h in header] if header else [str(j) for j in range(width)]
    missing = np.isin(np.char.lower(cells), sorted(_MISSING))
    numeric = np.vectorize(_is_number, otypes=[bool])(cells) & ~missing
    for i, j in np.argwhere(missing | ~numeric):
        where = f"{path}: row {lines[i]}, column {label[j]}"
        if missing[i, j]:
            raise ValueError(f"{where} has a missing value ({str(cells[i, j])!r})")
        if j != t:
            raise ValueError(f"{where}: {str(cells[i, j])!r} is not a number; a feature column "
                             "must be numeric (encode it as numbers or remove it)")  # fmt: skip
    values = np.where(numeric, cells, "0").astype(np.float64)
    for i, j in np.argwhere(~np.isfinite(values)):
        raise ValueError(
            f"{path}: row {lines[i]}, column {label[j]} is not finite ({str(cells[i, j])!r})"
        )
    text = not numeric[:, t].all()  # a categorical target
    return np.delete(values, t, axis=1), cells[:, t] if text else values[:, t], f"column {label[t]}"


def _read_npz(path: Path, target: Any) -> tuple[np.ndarray, np.ndarray, str]:
    """X (m, n) as float64 and the target array (``y`` unless ``target`` names another)."""
    key = "y" if target is None else target
    if not isinstance(key, str):
        raise TypeError(f"target of an NPZ file must be an array's name, got {target!r}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            found = sorted(archive.files)
            arrays = {k: archive[k] for k in ("X", key) if k in found}
    except (OSError, ValueError, zipfile.BadZipFile, AttributeError) as err:
        raise ValueError(f"{path}: not a readable NPZ file ({err})") from err
    for k in ("X", key):
        if k not in arrays:
            raise ValueError(f"{path}: no array {k!r} (the file holds {found})")
    X, y = arrays["X"], arrays[key]
    if X.ndim != 2 or X.dtype.kind not in "biuf":
        raise ValueError(f"{path}: array 'X' must be 2-D numbers (m, n), got {X.dtype} {X.shape}")
    if y.ndim != 1 or y.shape[0] != X.shape[0] or y.dtype.kind not in "biufUS":
        raise ValueError(
            f"{path}: array {key!r} must be 1-D (m,) = ({X.shape[0]},) of numbers or labels, "
            f"got {y.dtype} {y.shape}"
        )
    for name, a in (("X", X), (key, y)):
        if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            row = [int(i) for i in np.argwhere(~np.isfinite(a))[0]]
            raise ValueError(f"{path}: array {name!r} is not finite at index {tuple(row)}")
    y = y.astype(str) if y.dtype.kind in "US" else y.astype(np.float64)
    return X.astype(np.float64), y, f"array {key!r}"


def _labels(
    values: np.ndarray, task: str | None, where: str
) -> tuple[np.ndarray, str, tuple[str, ...] | None]:
    """The targets, the task (inferred when None) and the class labels."""
    text = values.dtype.kind in "US"
    if text and task == "regression":
        raise ValueError(
            f"{where} holds text (e.g. {str(values[0])!r}), not the numbers of a regression"
        )
    integral = text or bool(np.all(values == np.round(values)))
    classes = np.unique(values)
    if task is None:
        task = "regression" if not integral or len(classes) > MAX_CLASSES else "multiclass"
        task = "binary" if task == "multiclass" and len(classes) == 2 else task
    if task == "regression":
        return values.astype(np.float64), task, None
    if not integral:
        bad = values[values != np.round(values)][0]
        raise ValueError(f"{where} holds non-integer values (e.g. {bad:g}), not the class "
                         f"labels of a {task} task")  # fmt: skip
    if len(classes) < 2:
        raise ValueError(f"{where} holds one class only ({classes[0]}): nothing to learn")
    if task == "binary" and len(classes) != 2:
        raise ValueError(f"{where} holds {len(classes)} classes, not the 2 of a binary task")
    y = np.searchsorted(classes, values)
    names = tuple(str(c) if text else f"{c:g}" for c in classes)
    return (y.astype(np.float64) if task == "binary" else y.astype(np.int64)), task, names


def load_file(
    path: str | os.PathLike[str], *, target: str | int | None = None, task: str | None = None
) -> Dataset:
    """Load your own data set from a CSV or an NPZ file.

    *CSV* (comma-separated, UTF-8): the first row is a header when one of its cells is
    text in a column of numbers; the target is the column ``target`` (a header name or
    an index, negative from the end; default the last column) and every other column
    is a numeric feature. A target holding text is categorical. Rows are counted as a
    spreadsheet shows them (the header is row 1); columns by name, or by index from 0.
    An empty cell, ``NA``, ``N/A``, ``nan``, ``null``, ``none``, ``?`` or ``inf`` is an
    error naming the file, the row and the column: impute or drop them first.

    *NPZ* (``np.savez``, chosen by the ``.npz`` suffix or the zip signature): arrays
    ``X`` (m, n) and ``y`` (m,) (``target`` names another array for y).

    The task, unless given: text, or integers with 2 … :data:`MAX_CLASSES` distinct
    values, are classes (2: ``"binary"``; more: ``"multiclass"``); any other numbers a
    ``"regression"``. Classes are numbered 0 … K−1 in the sorted order of their labels
    (``Dataset.classes``). The columns are used as they are (no standardization).

    Args:
      path: the file.
      target: the target column (CSV) or array (NPZ).
      task: one of :data:`TASKS`, to override the inferred one (checked against y).

    Returns:
      A :class:`Dataset` named after the file's stem.

    Example:
      >>> import tempfile, pathlib
      >>> path = pathlib.Path(tempfile.mkdtemp()) / "pets.csv"
      >>> _ = path.write_text("weight,height,kind\\n4,25,cat\\n30,60,dog\\n5,23,cat\\n")
      >>> pets = load_file(path, target="kind")
      >>> pets.X.tolist(), pets.y.tolist(), pets.task, pets.classes
      ([[4.0, 25.0], [30.0, 60.0], [5.0, 23.0]], [0.0, 1.0, 0.0], 'binary', ('cat', 'dog'))
    """
    if task is not None:
        _checks.check_choice(task, "task", TASKS)
    file = Path(path).expanduser()
    if not file.exists():
        raise ValueError(f"path {str(path)!r}: no such file")
    if file.is_dir():
        raise ValueError(f"path {str(path)!r} is a directory, not a CSV or NPZ file")
    with file.open("rb") as stream:
        npz = file.suffix.lower() == ".npz" or stream.read(4) == b"PK\x03\x04"
    X, values, what = (_read_npz if npz else _read_csv)(file, target)
    y, task, classes = _labels(values, task, f"{file}: target {what}")
    return Dataset(X, y, task, file.stem, classes)


def _design(rng: np.random.Generator, m: int, n: int, correlation: float) -> np.ndarray:
    if m <= 0 or n <= 0:
        raise ValueError(f"m and n must be > 0, got m={m}, n={n}")
    if not 0.0 <= correlation < 1.0:
        raise ValueError(f"correlation must be in [0, 1), got {correlation}")
    shared = rng.standard_normal((m, 1))
    return np.sqrt(1 - correlation) * rng.standard_normal((m, n)) + np.sqrt(correlation) * shared


def make_classification(
    m: int, n: int, *, seed: int = 0, correlation: float = 0.0, signal: float = 1.0
) -> Dataset:
    r"""Synthetic logistic data: X ~ N(0, Σ) (equicorrelated), w ~ N(0, signal²/n),
    b ~ N(0, 1)·0.5, y ~ Bernoulli(σ(Xw + b)).

    Example:
      >>> data = make_classification(100, 5, seed=1)
      >>> data.X.shape, sorted(set(data.y.tolist()))
      ((100, 5), [0.0, 1.0])
    """
    rng = np.random.default_rng(seed)
    X = _design(rng, m, n, correlation)
    w = rng.standard_normal(n) * signal / np.sqrt(n) * 3.0
    b = 0.5 * rng.standard_normal()
    p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
    y = (rng.random(m) < p).astype(np.float64)
    return Dataset(X, y, "binary", f"classification_{m}x{n}")


def make_regression(
    m: int, n: int, *, seed: int = 0, correlation: float = 0.0, noise: float = 1.0
) -> Dataset:
    r"""Synthetic linear data: y = Xw + b + noise·ε, w ~ N(0, 1), ε ~ N(0, 1).

    Example:
      >>> make_regression(50, 3).X.shape
      (50, 3)
    """
    rng = np.random.default_rng(seed)
    X = _design(rng, m, n, correlation)
    w = rng.standard_normal(n)
    y = X @ w + rng.standard_normal() + noise * rng.standard_normal(m)
    return Dataset(X, y, "regression", f"regression_{m}x{n}")
