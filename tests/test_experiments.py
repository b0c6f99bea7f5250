"""regjax.experiments: the registry of studies, and each study's measured conclusion."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import PNG_MAGIC

import regjax as rj


def test_the_registry_lists_and_runs_every_study(tmp_path):
    names = rj.experiments.names()
    assert names[0] == "weight_decay" and len(set(names)) == len(names)
    study = rj.experiments.run("weight_decay", quick=True, out=tmp_path)
    assert isinstance(study, rj.experiments.Study)
    assert study.name == "weight_decay" and study.question.endswith("?")
    assert study.figures == (tmp_path / "weight_decay.png",)
    # the answer quotes what was measured
    assert f"{study.data['gaps']['sgd'].max():.0e}" in study.answer
    with pytest.raises(ValueError, match="name must be one of"):
        rj.experiments.run("no_such_study")


def test_weight_decay_experiment_returns_data_and_png(tmp_path):
    from regjax.experiments import weight_decay

    out = tmp_path / "fig"
    result = weight_decay.run(out=out, quick=True)
    assert result.figures == (out / "weight_decay.png",)
    assert (out / "weight_decay.png").read_bytes()[:8] == PNG_MAGIC
    norms, gaps, lams = result.data["norms"], result.data["gaps"], result.data["lams"]
    assert set(norms) == {"sgd_l2", "sgdw", "adam_l2", "adamw"}
    assert all(v.shape == lams.shape for v in norms.values())
    np.testing.assert_allclose(norms["sgd_l2"], norms["sgdw"], rtol=1e-12)
    assert gaps["sgd"].max() < 1e-12 < 1e-2 < gaps["adam"].min()
    assert np.all(np.diff(norms["sgd_l2"]) < 0)  # more λ, smaller weights
