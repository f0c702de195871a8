"""Every public function and method of ``deepdife_core`` documents its parameters and result.

numpy-style docstrings: a function that takes parameters (besides ``self``/``cls``) has
a ``Parameters`` section; one with a ``return <expr>`` has a ``Returns`` (or ``Yields``)
section.  "Public" is a name without a leading underscore, at module level or a method
of a public module-level class.  ruff's pydocstyle rules (``D``, numpy convention, see
``pyproject.toml``) check the form; this test checks that the sections are there.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "deepdife_core"
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def has_section(doc: str, *names: str) -> bool:
    """True when ``doc`` has a numpy section headed by one of ``names`` (title, then dashes)."""
    pattern = rf"^[ \t]*(?:{'|'.join(names)})[ \t]*\n[ \t]*-{{3,}}[ \t]*$"
    return re.search(pattern, doc, flags=re.MULTILINE) is not None


def is_static(node: FunctionNode) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list)


def parameters(node: FunctionNode, method: bool) -> list[str]:
    """The parameter names a caller passes (``self``/``cls`` of a method left out)."""
    a = node.args
    names = [p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs]]
    names += [p.arg for p in (a.vararg, a.kwarg) if p is not None]
    if method and not is_static(node) and names and names[0] in {"self", "cls", "mcs"}:
        names = names[1:]
    return names


def body_nodes(node: FunctionNode) -> Iterator[ast.AST]:
    """The nodes of ``node``'s own body, not those of functions, lambdas or classes inside it."""
    stack = list(node.body)
    while stack:
        current = stack.pop()
        yield current
        for child in ast.iter_child_nodes(current):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                stack.append(child)


def returns_value(node: FunctionNode) -> bool:
    """True when the body has a ``return <expr>`` (a bare ``return`` or ``return None`` is no value)."""
    for sub in body_nodes(node):
        if isinstance(sub, ast.Return) and sub.value is not None:
            if isinstance(sub.value, ast.Constant) and sub.value.value is None:
                continue
            return True
    return False


def public_functions(tree: ast.Module) -> Iterator[tuple[str, FunctionNode, bool]]:
    """``(qualified name, node, is_method)`` for each public function and public-class method."""
    for node in tree.body:
        if isinstance(node, FunctionNode) and not node.name.startswith("_"):
            yield node.name, node, False
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, FunctionNode) and not item.name.startswith("_"):
                    yield f"{node.name}.{item.name}", item, True


def offenders() -> list[str]:
    out = []
    for path in sorted(CORE.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        where = path.relative_to(CORE.parent)
        for name, node, method in public_functions(tree):
            doc = ast.get_docstring(node) or ""
            missing = []
            if parameters(node, method) and not has_section(doc, "Parameters"):
                missing.append("Parameters")
            if returns_value(node) and not has_section(doc, "Returns", "Yields"):
                missing.append("Returns")
            if missing:
                out.append(f"{where}:{node.lineno} {name}: no {' / '.join(missing)} section")
    return out


def test_public_functions_document_parameters_and_returns():
    found = offenders()
    assert not found, f"{len(found)} public functions lack numpy docstring sections:\n" + "\n".join(found)


def test_the_checker_sees_a_missing_section():
    source = '''
def documented(x):
    """Double.

    Parameters
    ----------
    x : int
        A number.

    Returns
    -------
    int
        Twice ``x``.
    """
    return 2 * x


def undocumented(x):
    """Double."""
    return 2 * x


class Box:
    def get(self):
        """The content."""
        return 1

    def put(self, item):
        """Store ``item``."""

    @staticmethod
    def make(size):
        """Make one."""
        return None

    def _hidden(self, x):
        return x
'''
    tree = ast.parse(source)
    found = {
        name: (
            bool(parameters(node, method)) and not has_section(ast.get_docstring(node) or "", "Parameters"),
            returns_value(node) and not has_section(ast.get_docstring(node) or "", "Returns", "Yields"),
        )
        for name, node, method in public_functions(tree)
    }
    assert found == {
        "documented": (False, False),
        "undocumented": (True, True),
        "Box.get": (False, True),
        "Box.put": (True, False),
        "Box.make": (True, False),
    }
