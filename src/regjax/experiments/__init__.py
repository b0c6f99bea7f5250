"""The studies: each classic question about regularization answered by a rerunnable
experiment built on the public API, returning its data and its figures.

``names()`` lists them in order; ``run(name)`` runs one. Each study module has a
``QUESTION`` (one sentence) and ``run(*, quick=False, out=None, key=0, progress=None)``
returning a :class:`Study`; ``quick`` is a CI-sized version, ``out`` a directory for
the PNGs, ``key`` the seed (an int or a JAX key), ``progress`` a callable told the name
of each stage as it starts. ``Study.data["table"]`` is the study's summary table.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from regjax import _checks

if TYPE_CHECKING:
    import jax

__all__ = ["Study", "Table", "names", "question", "run"]


class Study(NamedTuple):
    """A study's result.

    Attributes:
      name: the study's name (its module).
      question: the question it answers, one sentence.
      answer: what was measured, one to three sentences quoting the numbers.
      data: the measured arrays and numbers, by name; ``data["table"]`` is a
        :class:`Table` summarizing them.
      figures: the PNG files written (empty when ``out`` is None).
    """

    name: str
    question: str
    answer: str
    data: dict[str, Any]
    figures: tuple[Path, ...]


class Table(NamedTuple):
    """A study's summary table: column headers and rows of formatted cells.

    A notebook shows it as a Markdown table; ``regjax experiment`` prints it as text.

    Example:
      >>> print(Table(("λ", "loss"), (("0.1", "0.52"),))._repr_markdown_())
      | λ | loss |
      |---|---|
      | 0.1 | 0.52 |
    """

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def _repr_markdown_(self) -> str:
        lines = ["| " + " | ".join(self.headers) + " |", "|" + "---|" * len(self.headers)]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)


_STUDIES = (
    "divide_by_m",
    "num_params",
    "batch_size",
    "half_and_decay",
    "weight_decay",
    "l1_vs_l2",
    "choosing_lambda",
    "dropout_vs_l2",
)


def names() -> tuple[str, ...]:
    """The studies, in order.

    Example:
      >>> names()[:2]
      ('divide_by_m', 'num_params')
    """
    return _STUDIES


def question(name: str) -> str:
    """The question the study ``name`` answers, in one sentence (nothing is run).

    Example:
      >>> question("weight_decay")
      'Is an L2 penalty the same as weight decay?'
    """
    _checks.check_choice(name, "name", _STUDIES)
    text: str = import_module(f"regjax.experiments.{name}").QUESTION
    return text


def run(
    name: str,
    *,
    quick: bool = False,
    out: str | Path | None = None,
    key: int | jax.Array = 0,
    progress: Callable[[str], None] | None = None,
) -> Study:
    """Run the study ``name`` (see :func:`names`).

    Args:
      name: the study.
      quick: a CI-sized run (each takes well under two minutes on two CPU cores).
      out: a directory for its figures (created); ``None`` writes none.
      key: the seed, an int or a ``jax.random`` key.
      progress: called with the name of each stage as it starts.

    Returns:
      A :class:`Study`.
    """
    _checks.check_choice(name, "name", _STUDIES)
    if out is not None:
        _checks.check_out_dir(out)
    module = import_module(f"regjax.experiments.{name}")
    study: Study = module.run(quick=quick, out=out, key=key, progress=progress)
    return study
