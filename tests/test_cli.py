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

import jax.numpy as jnp
import numpy as np
import pytest
from _helpers import PNG_MAGIC

import regjax
from regjax import checking, cli
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
def test_usage_errors_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert "usage: regjax" in capsys.readouterr().err


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
