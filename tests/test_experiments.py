"""regjax.experiments: the registry of studies and what every study returns.

Each study's measured conclusions are tested in ``test_experiments_<study>.py``.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest
from _helpers import PNG_MAGIC

import regjax as rj

ISSUE_STUDIES = (
    "divide_by_m",
    "num_params",
    "batch_size",
    "half_and_decay",
    "weight_decay",
    "l1_vs_l2",
    "choosing_lambda",
    "dropout_vs_l2",
)


def test_the_registry_lists_the_eight_studies_in_order():
    assert rj.experiments.names() == ISSUE_STUDIES


@pytest.mark.parametrize("name", ISSUE_STUDIES)
def test_every_study_module_has_a_question_and_the_common_signature(name):
    module = importlib.import_module(f"regjax.experiments.{name}")
    question = rj.experiments.question(name)
    assert question == module.QUESTION and question.endswith("?") and "\n" not in question
    assert module.__doc__ and module.run.__doc__
    parameters = inspect.signature(module.run).parameters
    assert list(parameters) == ["quick", "out", "key", "progress"]
    assert all(p.kind is p.KEYWORD_ONLY for p in parameters.values())
    assert (parameters["quick"].default, parameters["out"].default) == (False, None)
    assert (parameters["key"].default, parameters["progress"].default) == (0, None)


def test_run_dispatches_by_name_and_reports_progress(tmp_path):
    stages = []
    study = rj.experiments.run("half_and_decay", quick=True, progress=stages.append)
    assert isinstance(study, rj.experiments.Study) and study.name == "half_and_decay"
    assert study.figures == () and len(stages) >= 2
    assert isinstance(study.data["table"], rj.experiments.Table)


@pytest.mark.parametrize("bad", ["no_such_study", "Weight_Decay"])
def test_an_unknown_study_is_an_error_naming_the_argument(bad):
    with pytest.raises(ValueError, match="name must be one of"):
        rj.experiments.run(bad)
    with pytest.raises(ValueError, match="name must be one of"):
        rj.experiments.question(bad)


@pytest.mark.parametrize("name", ISSUE_STUDIES)
def test_the_readme_gallery_shows_every_study_with_its_command(name):
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    figures = re.findall(rf"!\[{name}\]\((notebooks/figures/{name}\w*\.png)\)", readme)
    assert figures, f"the README gallery has no figure of {name}"
    assert all((root / figure).read_bytes()[:8] == PNG_MAGIC for figure in figures)
    assert f"`regjax experiment {name} --out notebooks/figures`" in readme


def test_an_out_that_cannot_be_written_fails_before_the_study_runs(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(ValueError, match=r"^out .*cannot be created"):
        rj.experiments.run("divide_by_m", quick=True, out=blocker / "figures")
    with pytest.raises(ValueError, match=r"^out .*is a file"):
        rj.experiments.run("divide_by_m", quick=True, out=blocker)
