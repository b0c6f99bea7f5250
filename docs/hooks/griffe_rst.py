"""Griffe extension: regjax's docstrings, written for ``help()`` and Sphinx, as Markdown.

The docstrings are Google style with a few reStructuredText constructs inside. This
rewrites them before mkdocstrings parses them, so that the sources stay as they are:

- simple tables (``=====  =====`` borders) become Markdown tables;
- ``.. math::`` blocks become ``$$ … $$`` and ``:math:`x``` becomes ``\\(x\\)``
  (pymdownx.arithmatex hands both to MathJax);
- ``:func:`` / ``:class:`` / ``:mod:`` / ``:data:`` / ``:meth:`` / ``:attr:`` /
  ``:exc:`` roles become cross-references when their target is rendered on an API
  page (a public object with a docstring in a public module), plain code otherwise;
- ``Example:`` becomes ``Examples:``, so that doctests render as code;
- an argument line that documents several (``b1, b2, eps: Adam's constants.``) is
  repeated for each name, as Google-style parsers read one name per item.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_MATH_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<first>.*)$")
_MATH_ROLE = re.compile(r":math:`(?P<tex>[^`]+)`")
_XREF_ROLE = re.compile(r":(?:func|class|mod|data|meth|attr|exc|obj):`(?P<target>[^`]+)`")
_EXAMPLE = re.compile(r"^(?P<indent>[ \t]*)Example:[ \t]*$", re.MULTILINE)
_BORDER = re.compile(r"^[ \t]*=+(?:[ \t]+=+)+[ \t]*$")
_ARGS = re.compile(r"^[ \t]*(?:Args|Arguments|Parameters|Keyword Args|Other Parameters):[ \t]*$")
_GROUPED = re.compile(
    r"^(?P<indent>[ \t]+)(?P<names>\*{0,2}\w+(?:,[ \t]*\*{0,2}\w+)+):(?P<rest>.*)$"
)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def math_blocks(text: str) -> str:
    """``.. math::`` directives (with their indented body) as ``$$`` blocks."""
    lines, out, i = text.split("\n"), [], 0
    while i < len(lines):
        match = _MATH_DIRECTIVE.match(lines[i])
        i += 1
        if match is None:
            out.append(lines[i - 1])
            continue
        indent = match["indent"]
        body = [match["first"].strip()]
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > len(indent)):
            body.append(lines[i].strip())
            i += 1
        tex = [line for line in body if line]
        out += [f"{indent}$$", *(f"{indent}{line}" for line in tex), f"{indent}$$", ""]
    return "\n".join(out)


def _table(lines: list[str]) -> list[str]:
    """One simple table (border lines included) as Markdown, a row's continuation lines
    (first or last cell blank) joined to it."""
    indent = lines[0][: _indent(lines[0])]
    starts = [run.start() for run in re.finditer(r"=+", lines[0])]
    header: list[list[str]] = []
    rows: list[list[str]] = []
    for line in lines[1:-1]:
        if _BORDER.match(line):
            header, rows = rows, []
            continue
        cells = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], len(line) + 1])]
        if rows and (not cells[0] or not cells[-1]):
            rows[-1] = [f"{old} {new}".strip() for old, new in zip(rows[-1], cells)]
        else:
            rows.append(cells)
    header = header or [rows.pop(0)]
    head = [" ".join(column).strip() for column in zip(*header)]
    return [
        f"{indent}| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"
        for row in [head, ["---"] * len(head), *rows]
    ]


def rst_tables(text: str) -> str:
    """reStructuredText simple tables as Markdown tables."""
    lines, out, i = text.split("\n"), [], 0
    while i < len(lines):
        end = i + 1
        while end < len(lines) and lines[end].strip():
            end += 1
        borders = [j for j in range(i, end) if _BORDER.match(lines[j])]
        if _BORDER.match(lines[i]) and len(borders) >= 2:
            out += _table(lines[i : borders[-1] + 1])
            i = borders[-1] + 1
        else:
            out.append(lines[i])
            i += 1
    return "\n".join(out)


def grouped_args(text: str) -> str:
    """``a, b: description`` in an Args section as one item per name."""
    lines, out, i, section = text.split("\n"), [], 0, None
    while i < len(lines):
        line = lines[i]
        if section is not None and line.strip() and _indent(line) <= section:
            section = None
        match = _GROUPED.match(line) if section is not None else None
        if _ARGS.match(line):
            section = _indent(line)
        if match is None:
            out.append(line)
            i += 1
            continue
        end = i + 1
        while end < len(lines) and lines[end].strip() and _indent(lines[end]) > _indent(line):
            end += 1
        for name in match["names"].split(","):
            out += [f"{match['indent']}{name.strip()}:{match['rest']}", *lines[i + 1 : end]]
        i = end
    return "\n".join(out)


def math_roles(text: str) -> str:
    """``:math:`x``` as arithmatex's inline ``\\(x\\)``, on one line."""
    return _MATH_ROLE.sub(lambda m: r"\(" + " ".join(m["tex"].split()) + r"\)", text)


def _rendered(obj: griffe.Object | griffe.Alias) -> bool:
    """Whether mkdocstrings renders ``obj`` (filters: public, show_if_no_docstring: false)."""
    chain: list[griffe.Object | griffe.Alias] = []
    node: griffe.Object | griffe.Alias | None = obj
    while node is not None:
        chain.append(node)
        node = node.parent
    if any(part.name.startswith("_") for part in chain):
        return False
    if any(not part.is_public for part in chain[:-1]):  # the package root is always shown
        return False
    return obj.is_module or bool(obj.docstring)


def _target(name: str, scope: griffe.Object, collection: Any) -> str | None:
    """The rendered object's path that ``name`` names in ``scope``, if there is one."""
    head, _, rest = name.partition(".")
    try:
        path = name if head == scope.package.name else scope.resolve(head)
    except griffe.NameResolutionError:
        return None
    if rest and path != name:
        path = f"{path}.{rest}"
    try:
        obj = collection.get_member(path)
        if obj.is_alias:
            obj = obj.final_target
    except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None
    return obj.path if _rendered(obj) else None


def xref_roles(text: str, scope: griffe.Object, collection: Any) -> str:
    """Sphinx cross-reference roles as mkdocs-autorefs links, or code where none resolves."""

    def replace(match: re.Match[str]) -> str:
        target = match["target"].strip()
        short = target.startswith("~")
        target = target.lstrip("~")
        title = target.rsplit(".", 1)[-1] if short else target
        path = _target(target, scope, collection)
        return f"[`{title}`][{path}]" if path else f"`{title}`"

    return _XREF_ROLE.sub(replace, text)


def to_markdown(text: str, scope: griffe.Object, collection: Any) -> str:
    """One docstring, reStructuredText constructs and all, as Markdown."""
    text = _EXAMPLE.sub(r"\g<indent>Examples:", grouped_args(rst_tables(math_blocks(text))))
    return xref_roles(math_roles(text), scope, collection)


def _objects(obj: griffe.Object) -> Any:
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _objects(member)  # type: ignore[arg-type]


class RstToMarkdown(griffe.Extension):
    """Rewrite every docstring of the loaded package once it is fully loaded."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        for obj in _objects(pkg):
            if obj.docstring is not None:
                obj.docstring.value = to_markdown(
                    obj.docstring.value, obj, loader.modules_collection
                )
