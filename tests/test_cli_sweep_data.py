"""``regjax sweep --data PATH``: the user's own CSV/NPZ file, ``--target``, ``--task``; its
errors name the file, the column and the flag; no matplotlib means a table and one line.

Expected values come from NumPy reading the same file and from :mod:`regjax.paths` and
:func:`regjax.lambda_grid` called on those arrays directly.
"""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest
from _helpers import PNG_MAGIC

import regjax as rj
from regjax import cli, data
from regjax.cli.sweep import cross_validated_path

QUICK = ["--num", "5", "--folds", "3", "--quiet"]


def _table(out: str) -> tuple[list[str], list[list[str]]]:
    """The sweep table: its header cells and its rows (split on two or more spaces)."""
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("λ "))
    header = re.split(r"\s{2,}", lines[at].strip())
    rows = []
    for line in lines[at + 2 :]:
        if not re.match(r"^\d", line):
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return header, rows


def _regression_csv(tmp_path, rng):
    """60 × 4 with a header; the target y is the third column, not the last."""
    X = rng.standard_normal((60, 4))
    y = X @ np.array([1.0, 0.0, -2.0, 0.5]) + 0.3 * rng.standard_normal(60)
    path = tmp_path / "house.csv"
    table = np.column_stack([X[:, :2], y, X[:, 2:]])
    np.savetxt(path, table, delimiter=",", header="a,b,y,c,d", comments="", fmt="%.17g")
    return path


@pytest.mark.parametrize("raw", [False, True])
def test_csv_sweep_runs_on_the_files_arrays(tmp_path, rng, capsys, raw):
    """The file's columns, standardized (the default, as the embedded sets are) or as
    they are with --no-standardize."""
    path = _regression_csv(tmp_path, rng)
    argv = ["sweep", "--data", str(path), "--target", "y", "--out", str(tmp_path), *QUICK]
    argv += ["--no-standardize"] if raw else []
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("house: m=60, n=4; linear regression, l2 penalty")
    header, rows = _table(out)
    assert header[-1] == "chosen" and "LOO ½MSE" in header  # every column has a header
    # the λ column is the grid of the file's arrays, read here by NumPy
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    X, y = np.delete(table, 2, axis=1), table[:, 2]
    X = X if raw else (X - X.mean(axis=0)) / X.std(axis=0)
    lams = rj.lambda_grid(X, y, model="linear", num=5, min_ratio=1e-7, penalty="l2")
    np.testing.assert_allclose([float(r[0]) for r in rows], lams, rtol=5e-4)  # 4 digits
    assert sum("best" in r[-1] for r in rows) == 1
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == ["house_linear_l2_path.png", "house_linear_l2_validation.png"]
    assert all((tmp_path / p).read_bytes()[:8] == PNG_MAGIC for p in pngs)


def test_npz_multiclass_l1_sweep_matches_the_path_solver(tmp_path, rng, capsys, x64):
    """Softmax with --penalty l1 (the issue's `--data digits --penalty l1`): the printed
    sparsity at the chosen λ is that of rj.paths.softmax on the same arrays."""
    X = rng.standard_normal((90, 4))
    labels = np.digitize(X[:, 0] + X[:, 1], [-0.7, 0.7])  # classes 0, 1, 2
    path = tmp_path / "three.npz"
    np.savez(path, X=X, y=labels)
    X = (X - X.mean(axis=0)) / X.std(axis=0)  # what the command fits
    argv = ["sweep", "--data", str(path), "--penalty", "l1", "--no-figures", *QUICK]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "three: m=90, n=4; softmax regression, l1 penalty" in out
    assert "classes: 0 = 0, 1 = 1, 2 = 2" in out
    found = re.search(r"chosen λ = (\S+) .*nonzero weights at the best λ: (\d+) of 12", out)
    assert found, out
    lams = np.asarray(
        rj.lambda_grid(X, labels, model="softmax", num=5, min_ratio=1e-4, penalty="l1")
    )
    g = int(np.argmin(np.abs(lams - float(found[1]))))
    assert float(found[1]) == pytest.approx(lams[g], rel=1e-5)
    direct = rj.paths.softmax(X, labels, lams, l1_ratio=1.0, num_classes=3)
    assert int(found[2]) == np.count_nonzero(np.asarray(direct.params["w"][g]))


def test_categorical_csv_target_without_matplotlib(tmp_path, rng, capsys, monkeypatch):
    """Text labels become classes 0/1 for a logistic path; without matplotlib the table
    is printed and one line says what to install (no traceback, exit 0, no figure)."""
    X = rng.standard_normal((80, 3))
    kind = np.where(X[:, 0] - X[:, 2] + 0.5 * rng.standard_normal(80) > 0, "spam", "ham")
    path = tmp_path / "mail.csv"
    lines = ["x0,x1,x2,kind"] + [f"{a!r},{b!r},{c!r},{k}" for (a, b, c), k in zip(X.tolist(), kind)]
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    out_dir = tmp_path / "figures"
    argv = ["sweep", "--data", str(path), "--out", str(out_dir), "--num", "5", "--folds", "3"]
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    assert "mail: m=80, n=3; logistic regression" in captured.out
    assert "classes: 0 = ham, 1 = spam" in captured.out
    header, rows = _table(captured.out)
    assert len(rows) == 5 and header[-1] == "chosen" and "val error" in header
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)  # standardized, the default
    lams = rj.lambda_grid(Xs, (kind == "spam").astype(float), num=5, min_ratio=1e-7, penalty="l2")
    np.testing.assert_allclose([float(r[0]) for r in rows], lams, rtol=5e-4)
    notes = [line for line in captured.err.splitlines() if "regjax[plot]" in line]
    assert notes == [
        "regjax sweep: no figures (figures need matplotlib: pip install 'regjax[plot]'; "
        "or pass --no-figures)"
    ]
    assert "Traceback" not in captured.err and not list(out_dir.glob("*.png"))


@pytest.mark.parametrize(
    ("files", "flags", "message"),
    [
        ({}, ["--data", "{tmp}/gone.csv"], r"--data '.*gone.csv': no such file"),
        ({}, ["--data", "{tmp}/dir.npz"], r"--data '.*dir.npz': is a directory, not a file"),
        ({}, ["--data", "wine"], r"--data must be an embedded data set \(breast_cancer, diab"),
        ({"t.csv": "a,b,y\n1,2,0\n3,4,1\n"}, ["--target", "z"],
         r"--target 'z' is not a column of .*t.csv \(columns: a, b, y\)"),
        ({"t.csv": "a,b,y\n1,2,0\n3,4,1\n"}, ["--target", "7"],
         r"--target 7 is out of range: .*t.csv has 3 columns"),
        ({"t.csv": "a,y\n1,0\n2,1\n3,2\n"}, ["--task", "binary"],
         r"t.csv: target column 'y' holds 3 classes, not the 2 of a binary task"),
        ({"t.csv": "a,y\n1,u\n2,v\n"}, ["--task", "regression"],
         r"t.csv: target column 'y' holds text \(e.g. 'u'\), not the numbers of a regression"),
        ({"t.csv": "a,b,y\n1,2,0\n3,,1\n"}, [], r"t.csv: row 3, column 'b' has a missing value"),
        ({"t.csv": "a,c,y\n1,red,0\n2,blue,1\n"}, [],
         r"t.csv: row 2, column 'c': 'red' is not a number; a feature column must be numeric"),
        ({"t.npz": {"X": np.ones((4, 2)), "label": np.ones(4)}}, [],
         r"t.npz: no array 'y' \(the file holds \['X', 'label'\]\)"),
        ({"t.csv": "a,y\n1,0.5\n2,1.5\n"}, ["--model", "logistic"],
         r"--model 'logistic' does not fit the regression data set 't'"),
        ({}, ["--data", "digits", "--target", "y"],
         r"--target picks a column of a CSV/NPZ file, not of the embedded 'digits'"),
        ({}, ["--data", "digits", "--task", "regression"],
         r"--task 'regression' does not fit the embedded 'digits' \(multiclass\)"),
    ],
)  # fmt: skip
def test_bad_files_and_flags_exit_2_naming_the_file_column_and_flag(
    tmp_path, capsys, files, flags, message
):
    (tmp_path / "dir.npz").mkdir()
    for name, content in files.items():
        if isinstance(content, str):
            (tmp_path / name).write_text(content)
        else:
            np.savez(tmp_path / name, **content)
    data_flag = [] if "--data" in flags else ["--data", str(tmp_path / next(iter(files)))]
    argv = ["sweep", *data_flag, *(f.format(tmp=tmp_path) for f in flags), "--no-figures"]
    assert cli.main([*argv, "--quiet"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1  # one line, no traceback
    assert captured.err.startswith("regjax sweep: ")
    assert re.search(message, captured.err), captured.err


def test_unknown_task_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["sweep", "--task", "classification"])
    assert exit_info.value.code == 2
    assert "--task: invalid choice: 'classification'" in capsys.readouterr().err


def test_a_dataset_with_an_unknown_task_is_a_value_error_naming_task():
    """Before: a bare KeyError from the model lookup."""
    ds = data.Dataset(np.ones((4, 1)), np.array([0.0, 1.0, 0.0, 1.0]), "classification", "d")
    message = r"task must be one of \['binary', 'multiclass', 'regression'\], got 'classif"
    with pytest.raises(ValueError, match=message):
        cross_validated_path(ds)
