"""The ``regjax`` command: ``check``, ``convert`` and ``--help``."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from regjax import checking, cli
from regjax.conventions import CONVENTIONS


def _rows(out: str) -> dict[str, list[str]]:
    """Table rows keyed by their first column (split on runs of two or more spaces)."""
    rows = {}
    for line in out.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if cells and cells[0]:
            rows[cells[0]] = cells[1:]
    return rows


def test_check_prints_a_passing_row_for_every_builtin_case(capsys):
    assert cli.main(["check"]) == 0
    out = capsys.readouterr().out
    names = [case.name for case in checking.builtin_cases()]
    assert len(names) >= 9
    rows = _rows(out)
    for name in names:
        assert name in rows, f"no row for {name!r} in\n{out}"
        assert rows[name][-1] == "ok"
        # closed form vs jax.grad within 1e-10, vs central differences within 1e-6
        assert float(rows[name][1]) <= 1e-10
        assert float(rows[name][2]) <= 1e-6
    assert f"{len(names)} passed, 0 failed" in out


def test_check_takes_seed_and_lambda(capsys):
    assert cli.main(["check", "--seed", "3", "--lam", "0"]) == 0
    out = capsys.readouterr().out
    assert "λ = 0.0" in out
    assert "passed, 0 failed" in out


def _value(out: str, name: str) -> float:
    return float(_rows(out)[name][0])


@pytest.mark.parametrize(
    ("argv", "target", "expected"),
    [
        # c = λ/m = α/m: sklearn's Ridge alpha is Ng's λ
        (
            ["1", "--from", "ng", "--to", "sklearn_ridge_alpha", "--m", "100"],
            "sklearn_ridge_alpha",
            1.0,
        ),
        # C = 1/(c·m) = 1/λ
        (["4", "--from", "ng", "--to", "sklearn_logreg_C", "--m", "100"], "sklearn_logreg_C", 0.25),
        # keras l2 = c/2 = λ/(2m)
        (["10", "--from", "ng", "--to", "keras_l2", "--m", "50000"], "keras_l2", 1e-4),
        # λ = c·m with c = d/η
        (
            ["0.001", "--from", "decoupled_independent", "--to", "ng", "--lr", "0.1", "--m", "200"],
            "ng",
            2.0,
        ),
        # per_param: λ_n = c·n = λ·n/m
        (["3", "--from", "ng", "--to", "per_param", "--m", "60", "--n", "20"], "per_param", 1.0),
    ],
)
def test_convert_prints_the_converted_value(capsys, argv, target, expected):
    assert cli.main(["convert", *argv]) == 0
    out = capsys.readouterr().out
    assert _value(out, target) == pytest.approx(expected, rel=1e-6)


def test_convert_ng_to_ridge_alpha_prints_1(capsys):
    argv = ["convert", "1", "--from", "ng", "--to", "sklearn_ridge_alpha", "--m", "100"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert _rows(out)["sklearn_ridge_alpha"][0] == "1"


def test_convert_to_all(capsys):
    argv = ["convert", "2", "--from", "ng", "--to", "all", "--m", "100", "--n", "10", "--lr", "0.5"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    for name in CONVENTIONS:
        assert name in rows, f"no row for {name!r} in\n{out}"
    c = 2 / 100  # the coefficient of ½‖w‖² on the mean loss
    expected = {
        "ng": 2.0,
        "sum": 2.0,
        "per_param": c * 10,
        "mean_l2": c,
        "sklearn_ridge_alpha": 2.0,
        "sklearn_logreg_C": 1 / (c * 100),
        "keras_l2": c / 2,
        "torch_weight_decay": c,
        "decoupled_lr_scaled": c,
        "decoupled_independent": c * 0.5,
    }
    assert set(expected) == set(CONVENTIONS)
    for name, value in expected.items():
        assert float(rows[name][0]) == pytest.approx(value, rel=1e-6)


def test_convert_to_all_without_n_and_lr_marks_those_rows(capsys):
    assert cli.main(["convert", "2", "--from", "ng", "--to", "all", "--m", "100"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert set(CONVENTIONS) <= set(rows)
    assert rows["per_param"][0] == "-" and "n=" in rows["per_param"][1]
    assert rows["decoupled_independent"][0] == "-"
    assert "learning_rate=" in rows["decoupled_independent"][1]
    assert float(rows["mean_l2"][0]) == pytest.approx(0.02)


def test_convert_C_zero_is_infinite_strength(capsys):
    assert cli.main(["convert", "0", "--from", "ng", "--to", "sklearn_logreg_C", "--m", "10"]) == 0
    assert _rows(capsys.readouterr().out)["sklearn_logreg_C"][0] == "inf"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["1", "--from", "pytorch", "--to", "ng", "--m", "10"], r"from_ must be one of.*'pytorch'"),
        (["1", "--from", "ng", "--to", "glmnet", "--m", "10"], r"to must be one of.*'glmnet'"),
        (["1", "--from", "ng", "--to", "mean_l2"], r"'ng' needs m="),
        (["1", "--from", "mean_l2", "--to", "sklearn_ridge_alpha"], r"needs m="),
        (["1", "--from", "ng", "--to", "all"], r"needs m="),
        (["1", "--from", "mean_l2", "--to", "per_param"], r"needs n="),
        (["1", "--from", "decoupled_independent", "--to", "mean_l2"], r"needs learning_rate="),
        (["1", "--from", "ng", "--to", "mean_l2", "--m", "0"], r"m must be a finite number > 0"),
        (["-1", "--from", "ng", "--to", "mean_l2", "--m", "10"], r"value must be >= 0"),
        (["nan", "--from", "ng", "--to", "mean_l2", "--m", "10"], r"value must be finite"),
    ],
)
def test_convert_errors_exit_2_with_a_message(capsys, argv, message):
    assert cli.main(["convert", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("regjax convert: ")
    assert re.search(message, captured.err), captured.err


@pytest.mark.parametrize(
    "argv",
    [
        ["convert", "1", "--to", "ng"],  # --from is required
        ["convert", "--from", "ng", "--to", "ng"],  # the value is required
        ["convert", "one", "--from", "ng", "--to", "ng"],  # not a number
        ["frobnicate"],
        [],
    ],
)
def test_usage_errors_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert "usage: regjax" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["check", "convert"])
def test_subcommand_help(capsys, command):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: regjax {command}" in out
    if command == "check":
        assert "--seed" in out and "--lam" in out
    else:
        assert "--from" in out and "--to" in out
        for name in CONVENTIONS:  # the help lists every convention name
            assert name in out


def test_python_m_regjax_help():
    result = subprocess.run(
        [sys.executable, "-m", "regjax", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "usage: regjax" in result.stdout
    for command in ("check", "convert"):
        assert command in result.stdout


def test_python_m_regjax_convert():
    argv = ["convert", "1", "--from", "ng", "--to", "sklearn_ridge_alpha", "--m", "100"]
    result = subprocess.run(
        [sys.executable, "-m", "regjax", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert _rows(result.stdout)["sklearn_ridge_alpha"][0] == "1"
    bad = subprocess.run(
        [sys.executable, "-m", "regjax", "convert", "1", "--from", "ng", "--to", "ng"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2
    assert "needs m=" in bad.stderr
