"""The studies: each classic question about regularization answered by a rerunnable
experiment built on the public API, returning its data and its figures.

``names()`` lists them in order; ``run(name)`` runs one. Each study module has a
``QUESTION`` (one sentence) and ``run(*, quick=False, out=None)`` returning a
:class:`Study`; ``quick`` is a CI-sized version, ``out`` a directory for the PNGs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from regjax import _checks

__all__ = ["Study", "names", "run"]


class Study(NamedTuple):
    """A study's result.

    Attributes:
      name: the study's name (its module).
      question: the question it answers, one sentence.
      answer: what was measured, one or two sentences.
      data: the measured arrays and numbers, by name.
      figures: the PNG files written (empty when ``out`` is None).
    """

    name: str
    question: str
    answer: str
    data: dict[str, Any]
    figures: tuple[Path, ...]


_STUDIES = ("weight_decay",)


def names() -> tuple[str, ...]:
    """The studies, in order.

    Example:
      >>> "weight_decay" in names()
      True
    """
    return _STUDIES


def run(name: str, *, quick: bool = False, out: str | Path | None = None) -> Study:
    """Run the study ``name`` (see :func:`names`).

    Args:
      name: the study.
      quick: a CI-sized run.
      out: a directory for its figures (created); ``None`` writes none.

    Returns:
      A :class:`Study`.
    """
    _checks.check_choice(name, "name", _STUDIES)
    from importlib import import_module

    module = import_module(f"regjax.experiments.{name}")
    study: Study = module.run(quick=quick, out=out)
    return study
