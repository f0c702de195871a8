"""The layout of ``deepdife_core``: domain subpackages, arrows pointing down, no cycles.

Every import between modules of the package counts, including imports inside
functions (a lazy import is still an arrow).  ``ARCHITECTURE.md`` draws the same layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "deepdife_core"
#: bottom to top: a module may import its own layer or a lower one, never a higher one
LAYERS: list[set[str]] = [
    {"errors", "config", "files"},
    {"data", "genome"},
    {"model", "streaming"},
    {"train"},
    {"interpret"},
    {"motifs", "plot"},
    {"tune", "experiments", "variants"},
    {"jobs"},
    {"cli"},
]
LAYER_OF = {room: i for i, rooms in enumerate(LAYERS) for room in rooms}


def module_name(path: Path) -> str:
    parts = path.relative_to(CORE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def room(module: str) -> str:
    """``deepdife_core.data.io`` -> ``data``; ``deepdife_core.files`` -> ``files``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports_of(path: Path) -> set[str]:
    """Every ``deepdife_core`` module ``path`` imports (absolute or relative, at any depth)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    known = {module_name(p) for p in CORE.rglob("*.py")}
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("deepdife_core")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if not base.startswith("deepdife_core"):
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.add(sub if sub in known else base)
    out.discard(me)
    return out


MODULES = sorted(CORE.rglob("*.py"))
GRAPH = {module_name(p): imports_of(p) for p in MODULES}


def test_every_room_is_a_known_layer():
    rooms = {room(m) for m in GRAPH} - {"__init__"}
    assert rooms <= set(LAYER_OF), f"add these to LAYERS and ARCHITECTURE.md: {sorted(rooms - set(LAYER_OF))}"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_arrows_point_down(module):
    if room(module) == "__init__":
        return
    up = [
        dep for dep in GRAPH[module] if room(dep) != "__init__" and LAYER_OF.get(room(dep), -1) > LAYER_OF[room(module)]
    ]
    assert not up, f"{module} imports {up} from a higher layer"


def test_no_import_cycles():
    seen: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(m: str) -> None:
        seen[m] = 1
        stack.append(m)
        for dep in sorted(GRAPH.get(m, ())):
            if dep not in GRAPH:
                continue
            if seen.get(dep) == 1:
                cycle = [*stack[stack.index(dep) :], dep]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if dep not in seen:
                visit(dep)
        stack.pop()
        seen[m] = 2

    for m in sorted(GRAPH):
        if m not in seen:
            visit(m)


def test_the_library_never_imports_streamlit_or_the_dashboard():
    for path in MODULES:
        tree = ast.parse(path.read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        bad = {n for n in names if n.split(".")[0] in {"streamlit", "dashboard"}}
        assert not bad, f"{path.relative_to(CORE.parent)} imports {sorted(bad)}"


def test_every_module_has_its_test_file():
    tests = Path(__file__).resolve().parent  # tests/core
    missing = []
    for path in MODULES:
        if path.name == "__init__.py":
            continue
        rel = path.relative_to(CORE)
        want = tests / rel.parent / f"test_{rel.name}"
        if not want.exists():
            missing.append(str(want.relative_to(tests.parent.parent)))
    assert not missing, f"modules without a mirrored test file: {missing}"


def test_graph_checker_sees_an_upward_import_and_a_cycle(tmp_path):
    """The checker itself: an upward import and a two-module cycle are found."""
    fake = {"deepdife_core.data.io": {"deepdife_core.train.fit"}, "deepdife_core.train.fit": {"deepdife_core.data.io"}}
    up = [d for d in fake["deepdife_core.data.io"] if LAYER_OF[room(d)] > LAYER_OF[room("deepdife_core.data.io")]]
    assert up == ["deepdife_core.train.fit"]
    global GRAPH
    saved, GRAPH = GRAPH, fake
    try:
        with pytest.raises(AssertionError, match="import cycle"):
            test_no_import_cycles()
    finally:
        GRAPH = saved
