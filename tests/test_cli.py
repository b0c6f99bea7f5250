"""The ``regjax`` command: ``sweep``, ``check``, ``convert``, ``experiment``, ``--help`` and
``--version``.

The job behind ``regjax sweep``, :func:`regjax.cli.sweep.cross_validated_path`, is
tested here too.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from _helpers import PNG_MAGIC

import regjax
from regjax import checking, cli
from regjax._format import table
from regjax.cli._output import as_flags, flags_of
from regjax.cli.sweep import MODELS, cross_validated_path
from regjax.conventions import CONVENTIONS


def _rows(out: str) -> dict[str, list[str]]:
    """Table rows keyed by their first column (split on runs of two or more spaces)."""
    rows = {}
    for line in out.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if cells and cells[0]:
            rows[cells[0]] = cells[1:]
    return rows


# --- sweep: the job ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dataset", "model", "penalty"),
    [
        ("breast_cancer", "logistic", "l2"),
        ("diabetes", "linear", "l2"),
        ("diabetes", "linear", "l1"),
        ("digits", "softmax", "l2"),
    ],
)
def test_run_reports_a_consistent_cross_validated_path(x64, dataset, model, penalty):
    report = cross_validated_path(dataset, penalty=penalty, num=5, folds=3, min_ratio=1e-3)
    assert report.model == model and model in MODELS
    cv = report.cv
    assert cv.lams.shape == (5,) and np.all(np.diff(cv.lams) < 0)
    assert cv.val.shape == (3, 5)
    assert cv.best_lam in cv.lams and cv.lam_1se >= cv.best_lam
    assert np.all(np.isfinite(cv.val_mean)) and np.all(cv.train <= cv.val_mean + 1e-12)
    assert report.path.params["w"].shape[0] == 5
    if model == "linear" and penalty == "l2":
        assert report.loo is not None and report.loo.shape == (5,)
    if model != "linear":
        assert report.val_error is not None and np.all(
            (0 <= report.val_error) & (report.val_error <= 1)
        )


def test_run_rejects_a_model_that_does_not_fit_the_data():
    with pytest.raises(ValueError, match="model"):
        cross_validated_path("diabetes", model="logistic")
    with pytest.raises(ValueError, match=r"penalty must be one of \['elastic_net', 'l1', 'l2'\]"):
        cross_validated_path("digits", penalty="l3")


def test_best_lambda_of_the_path_minimizes_validation_loss(x64):
    report = cross_validated_path("diabetes", num=6, folds=3)
    g = int(np.argmin(report.cv.val_mean))
    assert report.cv.best_lam == pytest.approx(float(jnp.asarray(report.cv.lams)[g]))


# --- sweep: the command -----------------------------------------------------------------


def test_cli_sweep_quick_prints_a_table_and_writes_figures(tmp_path, capsys):
    out_dir = tmp_path / "new" / "figures"  # --out that does not exist yet is created
    assert cli.main(["sweep", "--quick", "--quiet", "--out", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert "breast_cancer" in out and "val loss" in out and "chosen λ" in out
    assert "best" in out
    pngs = sorted(p.name for p in out_dir.glob("*.png"))
    assert pngs == [
        "breast_cancer_logistic_l2_path.png",
        "breast_cancer_logistic_l2_validation.png",
    ]
    assert all((out_dir / p).read_bytes()[:8] == PNG_MAGIC for p in pngs)


def test_cli_sweep_progress_goes_to_stderr(tmp_path, capsys):
    assert cli.main(["sweep", "--quick", "--no-figures", "--data", "diabetes"]) == 0
    captured = capsys.readouterr()
    assert "LOO" in captured.out
    assert "cross-validation" in captured.err and "[" in captured.err


def test_cli_sweep_elastic_net_prints_a_table_with_a_chosen_column(capsys):
    argv = ["sweep", "--quick", "--quiet", "--no-figures", "--penalty", "elastic_net"]
    assert cli.main([*argv, "--data", "diabetes"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    header = next(line for line in lines if line.startswith("λ"))
    columns = re.split(r"\s{2,}", header.strip())
    assert columns[0] == "λ" and columns[-1] == "chosen"
    assert "val loss" in columns
    assert "LOO ½MSE" not in columns  # leave-one-out is the ridge path's, not the elastic net's
    rule = lines[lines.index(header) + 1]
    assert set(rule) <= {"-", " "}
    body = lines[lines.index(header) + 2 : lines.index(header) + 2 + 8]  # --quick: 8 λ
    assert len(body) == 8 and all(re.match(r"^\d", row) for row in body)
    assert any(re.search(r"\bbest\b", row) for row in body)
    assert "elastic_net" in captured.out and "ρ = 0.5" in captured.out
    assert "chosen λ" in captured.out
    assert captured.err == ""  # --quiet: no progress bar


def test_cli_sweep_tune_reports_the_tuned_lambda_next_to_the_grids_best(capsys):
    """The hypergradient's λ minimizes the same CV loss: never above the grid's best."""
    assert cli.main(["sweep", "--quick", "--quiet", "--no-figures", "--tune"]) == 0
    out = capsys.readouterr().out
    found = re.search(
        r"tuned λ = (\S+): CV loss (\S+) after (\d+) evaluations \((\d+) fits; [^)]*\); "
        r"the grid's best λ = (\S+): CV loss (\S+) \((\d+) fits\)",
        out,
    )
    assert found, out
    tuned_loss, grid_loss = float(found[2]), float(found[6])
    assert tuned_loss <= grid_loss * (1 + 1e-5)  # 6 printed digits
    assert int(found[4]) == 3 * int(found[3])  # --quick: 3 folds per evaluation
    assert int(found[7]) == 8 * 3  # --quick: 8 λ × 3 folds


# --- check and convert ------------------------------------------------------------------


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


def test_convert_to_all_without_n_and_lr_marks_those_rows_naming_the_flag(capsys):
    assert cli.main(["convert", "2", "--from", "ng", "--to", "all", "--m", "100"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert set(CONVENTIONS) <= set(rows)
    assert rows["per_param"][0] == "-" and rows["per_param"][2] == "(needs --n)"
    assert rows["decoupled_independent"][0] == "-"
    assert rows["decoupled_independent"][2] == "(needs --lr)"
    assert float(rows["mean_l2"][0]) == pytest.approx(0.02)


def test_convert_C_zero_is_infinite_strength(capsys):
    assert cli.main(["convert", "0", "--from", "ng", "--to", "sklearn_logreg_C", "--m", "10"]) == 0
    assert _rows(capsys.readouterr().out)["sklearn_logreg_C"][0] == "inf"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["1", "--from", "pytorch", "--to", "ng", "--m", "10"],
            r": --from must be one of.*'pytorch'",
        ),
        (["1", "--from", "ng", "--to", "glmnet", "--m", "10"], r": --to must be one of.*'glmnet'"),
        (["1", "--from", "ng", "--to", "mean_l2"], r"'ng' needs --m$"),
        (["1", "--from", "mean_l2", "--to", "sklearn_ridge_alpha"], r"needs --m$"),
        (["1", "--from", "ng", "--to", "all"], r"needs --m$"),
        (["1", "--from", "mean_l2", "--to", "per_param"], r"needs --n$"),
        (["1", "--from", "decoupled_independent", "--to", "mean_l2"], r"needs --lr$"),
        (
            ["1", "--from", "ng", "--to", "mean_l2", "--m", "0"],
            r": --m .* must be a positive integer",
        ),
        (
            ["1", "--from", "mean_l2", "--to", "per_param", "--n", "0"],
            r": --n .* must be a positive",
        ),
        (["1", "--from", "decoupled_independent", "--to", "ng", "--lr", "-1"], r": --lr must be"),
        (["-1", "--from", "ng", "--to", "mean_l2", "--m", "10"], r": VALUE must be >= 0"),
        (["nan", "--from", "ng", "--to", "mean_l2", "--m", "10"], r": VALUE must be finite"),
    ],
)
def test_convert_errors_exit_2_with_a_message(capsys, argv, message):
    """The message names the flag the user typed (--m, VALUE), not the library's m=."""
    assert cli.main(["convert", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("regjax convert: ")
    assert re.search(message, captured.err.strip()), captured.err


def test_convert_between_a_decay_and_a_penalty_states_the_sgd_condition(capsys):
    """The issue's case: without --optimizer the row is marked and a note says that the
    number holds under plain SGD only; and what PyTorch/Optax decay is said too."""
    argv = ["convert", "0.05", "--from", "decoupled_lr_scaled", "--to", "ng", "--m", "1400"]
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    rows = _rows(captured.out)
    assert float(rows["ng"][0]) == pytest.approx(70.0)  # λ = m·c, c = wd = 0.05
    assert rows["ng"][1] == "plain SGD only *"
    lines = captured.out.splitlines()
    header = next(line for line in lines if line.startswith("convention"))
    assert re.split(r"\s{2,}", header) == ["convention", "value", "equivalent under", "meaning"]
    (note,) = [line for line in lines if line.startswith("* ")]
    assert note.startswith(
        "* equivalent under plain SGD only; with Adam-type optimizers no λ is equivalent"
    )
    assert "--optimizer" in note and "1711.05101" in note
    (biases,) = [line for line in lines if line.startswith("note: ")]
    assert "biases" in biases and "mask=True" in biases
    assert captured.err == ""


@pytest.mark.parametrize("optimizer", ["adam", "AdamW", "rmsprop"])
def test_convert_with_an_adaptive_optimizer_says_no_lambda_is_equivalent(capsys, optimizer):
    argv = ["convert", "0.05", "--from", "decoupled_lr_scaled", "--to", "ng", "--m", "1400"]
    assert cli.main([*argv, "--optimizer", optimizer]) == 0
    captured = capsys.readouterr()
    name = optimizer.lower()
    rows = _rows(captured.out)
    assert float(rows["ng"][0]) == pytest.approx(70.0)  # still plain SGD's number
    assert rows["ng"][1] == f"plain SGD only, not {name} *"
    (note,) = [line for line in captured.out.splitlines() if line.startswith("* ")]
    assert note.startswith(f"* decoupled_lr_scaled -> ng: under {name} no λ is equivalent")
    assert captured.err == ""  # the warning is the note, not a Python warning


def test_convert_with_momentum_names_the_moved_fixed_point(capsys):
    argv = ["convert", "0.03", "--from", "ng", "--to", "decoupled_lr_scaled", "--m", "100"]
    assert cli.main([*argv, "--optimizer", "momentum"]) == 0
    out = capsys.readouterr().out
    assert float(_rows(out)["decoupled_lr_scaled"][0]) == pytest.approx(3e-4)  # wd = λ/m
    assert "(1 − β)·c" in out


@pytest.mark.parametrize(
    ("argv", "target", "expected", "condition"),
    [
        # a penalty in two conventions: the same objective under any optimizer; wd = λ/m
        (["3", "--from", "ng", "--to", "torch_weight_decay", "--m", "100"], "torch_weight_decay",
         0.03, "any optimizer"),
        # the two decoupled forms: the same steps at a constant η; d = η·wd
        (["0.3", "--from", "decoupled_lr_scaled", "--to", "decoupled_independent", "--lr",
          "0.02"], "decoupled_independent", 0.006, "any optimizer, constant η"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("optimizer", [[], ["--optimizer", "adam"]])
def test_convert_within_one_kind_holds_under_any_optimizer(
    capsys, argv, target, expected, condition, optimizer
):
    assert cli.main(["convert", *argv, *optimizer]) == 0
    out = capsys.readouterr().out
    assert _rows(out)[target][:2] == [f"{expected:g}", condition]
    assert not any(line.startswith("* ") for line in out.splitlines())
    assert "note: " in out  # PyTorch's and Optax's decay reach the biases


def test_convert_between_two_penalties_prints_no_notes(capsys):
    assert cli.main(["convert", "1", "--from", "ng", "--to", "sum", "--m", "10"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].split()[:2] == ["sum", "1"]  # the table's row is the last line


def test_convert_to_all_with_adam_marks_the_penalties_only(capsys):
    argv = ["convert", "0.05", "--from", "decoupled_lr_scaled", "--to", "all", "--m", "1400"]
    assert cli.main([*argv, "--n", "10", "--lr", "0.1", "--optimizer", "adam"]) == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    for name in CONVENTIONS:
        decoupled = name in ("decoupled_lr_scaled", "decoupled_independent")
        assert rows[name][1].endswith("not adam *") != decoupled, name
    assert float(rows["decoupled_independent"][0]) == pytest.approx(0.005)  # d = η·wd
    assert sum(line.startswith("* ") for line in out.splitlines()) == 1


def _user_error(argv: list[str], capsys) -> str:
    """Run the command; it must exit 2 with one line ``regjax CMD: ...`` on stderr,
    nothing on stdout and no traceback. Returns that line."""
    try:
        code = cli.main(argv)
    except SystemExit as exit_info:  # argparse's own errors
        code = exit_info.code
    captured = capsys.readouterr()
    assert code == 2, captured
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err, captured.err
    assert captured.err.startswith(f"regjax {argv[0]}: "), captured.err
    return captured.err.strip()


_CONVERT = ["convert", "1", "--from", "ng", "--to", "mean_l2"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([*_CONVERT, "--m", "-3"], r"--m \(the number of training examples\) must be a pos"),
        ([*_CONVERT, "--m", "2.5"], r"argument --m: invalid int value: '2.5'"),
        ([*_CONVERT, "--m", "x"], r"argument --m: invalid int value: 'x'"),
        ([*_CONVERT, "--m", "10", "--n", "-1"], r"--n \(the number of penalized weights\) must"),
        ([*_CONVERT, "--m", "10", "--lr", "0"], r"--lr must be a finite number > 0, got 0"),
        ([*_CONVERT, "--m", "10", "--lr", "nan"], r"--lr must be a finite number > 0, got nan"),
        ([*_CONVERT, "--m", "10", "--lr", "fast"], r"argument --lr: invalid float value"),
        ([*_CONVERT, "--m", "10", "--optimizer", "adamm"], r"--optimizer must be one of .*'adamm'"),
        ([*_CONVERT, "--m", "10", "--frob"], r"unrecognized arguments: --frob"),
        (["convert", "x", "--from", "ng", "--to", "ng"], r"argument VALUE: invalid float value"),
        (["convert", "inf", "--from", "ng", "--to", "ng", "--m", "9"], r"VALUE must be finite"),
        (["convert", "1", "--from", "ng", "--to", "every", "--m", "9"], r"--to must be one of \["),
        (["convert", "1", "--from", "ng", "--to", "all"], r"convention 'ng' needs --m$"),
        (["check", "--seed", "-1"], r"--seed must be an int in \[0, 4294967295\], got -1$"),
        (["check", "--seed", str(2**32)], r"--seed must be an int in \[0, 4294967295\]"),
        (["check", "--seed", "x"], r"argument --seed: invalid int value: 'x'"),
        (["check", "--lam", "x"], r"argument --lam: invalid float value: 'x'"),
        (["check", "--lam", "1e308"], r"--lam 1e\+308 is too large: the L2 penalty is not fin"),
        (["check", "--frob"], r"unrecognized arguments: --frob"),
        (["experiment", "divide_by_m", "--seed", "-1"], r"--seed must be an int in \[0, "),
        (["experiment", "divide_by_m", "--seed", "x"], r"argument --seed: invalid int value"),
        (["experiment", "divide_by_m", "--quick", "--frob"], r"unrecognized arguments: --frob"),
    ],
)
def test_user_errors_are_one_line_naming_the_flag(capsys, argv, message):
    assert re.search(message, _user_error(argv, capsys))


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_out_that_mkdir_refuses_exits_2_before_computing(capsys):
    """/proc passes the permission check but refuses a new directory: found at once."""
    start = time.perf_counter()
    line = _user_error(["experiment", "divide_by_m", "--quick", "--out", "/proc/regjax"], capsys)
    assert time.perf_counter() - start < 1.0
    assert (
        line
        == "regjax experiment: --out '/proc/regjax' cannot be created: No such file or directory"
    )


def _cases_that(monkeypatch, action):
    """``regjax check`` on one built-in case, after ``action()`` (a warning, an error)."""
    real = checking.builtin_cases

    def cases(*args, **kwargs):
        action()
        return real(*args, **kwargs)[:1]

    monkeypatch.setattr(checking, "builtin_cases", cases)


def test_a_library_warning_is_one_line_on_stderr(capsys, monkeypatch):
    _cases_that(monkeypatch, lambda: warnings.warn("lam = 3 did not converge", stacklevel=1))
    assert cli.main(["check"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "regjax check: warning: lam = 3 did not converge\n"
    assert "1 passed, 0 failed" in captured.out


def _raise(error: BaseException):
    def action():
        raise error

    return action


def test_a_file_error_is_one_line_naming_the_file(capsys, monkeypatch):
    _cases_that(monkeypatch, _raise(FileNotFoundError(2, "No such file or directory", "w.csv")))
    line = _user_error(["check"], capsys)
    assert line == "regjax check: [Errno 2] No such file or directory: 'w.csv'"


def test_ctrl_c_is_one_line_and_exit_130(capsys, monkeypatch):
    _cases_that(monkeypatch, _raise(KeyboardInterrupt()))
    assert cli.main(["check"]) == 130
    captured = capsys.readouterr()
    assert captured.err == "regjax check: interrupted\n" and captured.out == ""


def test_as_flags_rewrites_argument_names_only_where_they_name_an_argument():
    parser = cli._subparser(cli._parser(), "convert")
    flags = flags_of(parser)
    assert {flags[k] for k in ("from_", "to", "m", "n", "lr", "learning_rate")} == {
        "--from", "--to", "--m", "--n", "--lr"
    }  # fmt: skip
    assert flags["value"] == "VALUE" and flags["optimizer"] == "--optimizer"
    cases = {
        "convention 'ng' needs m=": "convention 'ng' needs --m",
        "convention 'decoupled_independent' needs learning_rate=": "convention "
        "'decoupled_independent' needs --lr",
        "from_ must be one of ['ng'], got 'x'": "--from must be one of ['ng'], got 'x'",
        "learning_rate must be a finite number > 0": "--lr must be a finite number > 0",
        "m (a count) must be": "--m (a count) must be",
        "value = 1e+308 overflows": "VALUE = 1e+308 overflows",
        "to: unknown": "--to: unknown",
        "with m=10 the value is small": "with m=10 the value is small",  # a value, not a keyword
        "mass must be": "mass must be",  # not an argument
    }
    for message, expected in cases.items():
        assert as_flags(message, flags) == expected


def test_every_table_column_has_a_header():
    assert table(["a", "b"], [["1", "2"]]).splitlines()[0] == "a  b"
    with pytest.raises(ValueError, match=r"column 2 of \['λ', ''\] has no header"):
        table(["λ", ""], [["1", "best"]])
    with pytest.raises(ValueError, match="has 3 cells for 2 headers"):
        table(["λ", "val"], [["1", "2", "best"]])


# --- experiment ---------------------------------------------------------------------------


def test_experiment_list_prints_one_study_a_line_and_nothing_else(capsys):
    assert cli.main(["experiment", "--list"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert [line.split()[0] for line in lines] == list(regjax.experiments.names())
    for line, name in zip(lines, regjax.experiments.names()):
        assert line == f"{name}  {regjax.experiments.question(name)}"
        assert line.endswith("?") and line.count("?") == 1  # one sentence, a question
    assert captured.err == ""


def test_experiment_prints_question_table_answer_and_writes_pngs(tmp_path, capsys, monkeypatch):
    studies = []  # the study the command ran, to compare its output with
    run = regjax.experiments.run

    def recorded(*args, **kwargs):
        studies.append(run(*args, **kwargs))
        return studies[-1]

    monkeypatch.setattr(regjax.experiments, "run", recorded)
    assert cli.main(["experiment", "half_and_decay", "--quick", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    (study,) = studies
    table = study.data["table"]
    out = captured.out.splitlines()
    assert out[0] == study.question
    assert out[2].split() == [word for header in table.headers for word in header.split()]
    assert len(_rows(captured.out)) >= len(table.rows)
    assert study.answer in captured.out
    pngs = sorted(tmp_path.glob("*.png"))
    assert pngs and all(p.read_bytes()[:8] == PNG_MAGIC for p in pngs)
    assert all(f"wrote {p}" in captured.out for p in pngs)
    assert captured.err.count("\n") >= 2  # progress lines, one per stage


def test_experiment_list_into_a_pipe_closed_early_ends_quietly():
    code = "from regjax import cli; raise SystemExit(cli.main(['experiment', '--list']))"
    with subprocess.Popen(
        [sys.executable, "-u", "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline().decode()
        proc.stdout.close()  # what `| head -1` does (-u: the next lines are still to come)
        err = proc.stderr.read().decode()
    assert first.startswith("divide_by_m  ")
    assert proc.returncode == 0 and "Error" not in err, err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["experiment"], r"NAME is required \(or --list\)"),
        (["experiment", "no_such"], r"NAME must be one of divide_by_m, .*'no_such'"),
        (["experiment", "weight_decay", "--list"], r"--list takes no NAME"),
    ],
)
def test_experiment_errors_exit_2_naming_the_argument(capsys, argv, message):
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("regjax experiment: ")
    assert re.search(message, captured.err), captured.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sweep", "--min-ratio", "0"], r"--min-ratio must be in \(0, 1\), got 0.0"),
        (["sweep", "--num", "1"], r"--num must be an int >= 2, got 1"),
        (["sweep", "--folds", "1"], r"--folds must be an int in \[2, \d+\], got 1"),
        (
            ["sweep", "--penalty", "elastic_net", "--l1-ratio", "2"],
            r"--l1-ratio must be in \[0, 1\]",
        ),
        (["check", "--lam", "-1"], r"--lam must be >= 0"),
        (["check", "--lam", "nan"], r"--lam must be finite"),
    ],
)
def test_bad_values_exit_2_naming_the_flag_before_any_work(capsys, argv, message):
    assert cli.main([*argv, "--quiet", "--no-figures"] if argv[0] == "sweep" else argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith(f"regjax {argv[0]}: ")
    assert re.search(message, captured.err), captured.err


@pytest.mark.parametrize(
    "command", [["sweep", "--quick"], ["experiment", "divide_by_m", "--quick"]]
)
@pytest.mark.parametrize("where", ["file", "under_a_file"])
def test_out_that_cannot_be_written_exits_2_before_computing(tmp_path, capsys, command, where):
    """A file, or a directory under a file: refused at once, naming --out (the sweep
    would otherwise run to the end and fail with a traceback on its figures)."""
    blocker = tmp_path / "taken"
    blocker.write_text("not a directory")
    out = blocker if where == "file" else blocker / "figures"
    start = time.perf_counter()
    assert cli.main([*command, "--quiet", "--out", str(out)]) == 2
    assert time.perf_counter() - start < 1.0  # nothing was computed
    captured = capsys.readouterr()
    assert captured.out == ""
    assert re.search(r"--out '.*taken.*' (is a file|cannot be created)", captured.err), captured.err


def test_out_is_not_checked_when_nothing_is_written(tmp_path, capsys):
    blocker = tmp_path / "taken"
    blocker.write_text("not a directory")
    assert cli.main(["experiment", "--list", "--out", str(blocker)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == len(regjax.experiments.names())


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
def test_usage_errors_exit_2_with_one_line(capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("regjax")
    assert err.rstrip().endswith("--help)")  # where the usage is


def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"regjax {regjax.__version__}"


@pytest.mark.parametrize("command", ["check", "convert", "sweep", "experiment"])
def test_subcommand_help(capsys, command):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: regjax {command}" in out
    if command == "check":
        assert "--seed" in out and "--lam" in out
    elif command == "sweep":
        assert "--data" in out and "--penalty" in out and "--l1-ratio" in out
        for penalty in ("l2", "l1", "elastic_net"):
            assert penalty in out
    elif command == "experiment":
        assert "--list" in out and "--quick" in out and "--out" in out and "NAME" in out
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
    for command in ("check", "convert", "sweep"):
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
    assert "needs --m" in bad.stderr
