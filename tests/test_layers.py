"""The shape of the code: no import cycles, imports that only point down, packages reached by their surface.

Every import counts, those inside functions too. The layers, lowest first:
- packages: linkage < graph < analytics < api;
- inside linkage: its base modules (vocab, errors, locks) < standardize < intake < matching, mpi <
  pipeline < evaluation < synth (matching and mpi do not import each other);
- a module outside a package imports only the package itself (its `__init__`, the public surface),
  never a module inside it; `linkage.synth` is reached directly, as it is no part of linkage's surface,
  and only by the command line;
- `splink.internals` is imported only by `linkage.matching.splink_internals`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("linkage", "graph", "analytics", "api")
RANKS = {"linkage": 0, "graph": 1, "analytics": 2, "api": 3}
LINKAGE_RANKS = {"vocab": 0, "errors": 0, "locks": 0, "standardize": 1, "intake": 2, "matching": 3, "mpi": 3,
                 "pipeline": 4, "evaluation": 5, "synth": 6}
ENTRY_POINTS = {"linkage.synth"}  # reached directly: kept out of linkage's surface on purpose
SYNTH_USERS = {"api.cli"}  # synthetic data serves the command line (and the benchmarks and tests) only
INTERNALS_GATE = "linkage.matching.splink_internals"


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_package(name: str, root: Path = ROOT) -> bool:
    return (root / name.replace(".", "/") / "__init__.py").is_file()


def is_module(name: str, root: Path = ROOT) -> bool:
    return is_package(name, root) or (root / (name.replace(".", "/") + ".py")).is_file()


def binds(package: str, name: str, root: Path = ROOT) -> bool:
    """Whether the package's `__init__` itself gives `name` (imports or defines it)."""
    tree = ast.parse((root / package.replace(".", "/") / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ImportFrom | ast.Import):
            if isinstance(node, ast.ImportFrom) and node.module == package:
                continue  # the package importing its own submodules
            if any((alias.asname or alias.name) == name for alias in node.names):
                return True
        elif isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name:
            return True
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(target, ast.Name) and target.id == name for target in targets):
                return True
    return False


def imports(path: Path, root: Path = ROOT) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import in the file, inside functions too; `from p import m`
    of a submodule `m` that `p` does not itself bind counts as importing `p.m`."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                submodule = is_package(node.module, root) and is_module(sub, root) and not binds(
                    node.module, alias.name, root)
                yield (sub if submodule else node.module), node.lineno


def import_graph(root: Path = ROOT) -> nx.DiGraph:
    """Modules of HoSo's packages and the imports between them, each edge with where it is written."""
    graph = nx.DiGraph()
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            here = module_name(path, root)
            graph.add_node(here, path=path)
            for target, line in imports(path, root):
                if target.split(".")[0] in PACKAGES or target.startswith("splink.internals"):
                    graph.add_edge(here, target, where=f"{path.relative_to(root)}:{line}")
    return graph


def _package(module: str, root: Path = ROOT) -> str:
    return module if is_package(module, root) else module.rpartition(".")[0]


def _boundary(importer: str, target: str, root: Path = ROOT) -> str:
    """The outermost package or module of `target` that is not an ancestor of `importer`."""
    own, parts = _package(importer, root).split("."), target.split(".")
    shared = 0
    while shared < min(len(own), len(parts)) and own[shared] == parts[shared]:
        shared += 1
    return ".".join(parts[:shared + 1])


def _linkage_rank(module: str) -> int | None:
    parts = module.split(".")
    return LINKAGE_RANKS.get(parts[1]) if parts[0] == "linkage" and len(parts) > 1 else None


def problems(graph: nx.DiGraph, root: Path = ROOT) -> list[str]:
    """Every way the import graph breaks the layers, each naming where."""
    found = []
    for cycle in nx.simple_cycles(graph.subgraph(n for n in graph if n.split(".")[0] in PACKAGES)):
        found.append("cycle: " + " -> ".join([*cycle, cycle[0]]))
    for importer, target, data in graph.edges(data=True):
        where = data["where"]
        if target.startswith("splink.internals"):
            if importer != INTERNALS_GATE:
                found.append(f"{where}: splink.internals outside {INTERNALS_GATE}")
            continue
        if RANKS[target.split(".")[0]] > RANKS[importer.split(".")[0]]:
            found.append(f"{where}: {importer} imports {target}, a higher layer")
        mine, theirs = _linkage_rank(importer), _linkage_rank(target)
        same_unit = importer.split(".")[:2] == target.split(".")[:2]
        if mine is not None and theirs is not None and not same_unit and theirs >= mine:
            found.append(f"{where}: {importer} imports {target}, not a lower stage of linkage")
        if target.startswith("linkage.synth") and not importer.startswith("linkage.synth") \
                and importer not in SYNTH_USERS:
            found.append(f"{where}: {importer} imports {target}: synthetic data is for the command line only")
        boundary = _boundary(importer, target, root)
        inside_own = _package(importer, root) == boundary or _package(importer, root).startswith(boundary + ".")
        if target != boundary and target not in ENTRY_POINTS and not inside_own:
            found.append(f"{where}: {importer} imports {target}, inside {boundary}: import {boundary} instead")
    return found


def test_hosos_imports_have_no_cycle_and_point_only_down_through_package_surfaces() -> None:
    assert problems(import_graph()) == []


@pytest.fixture()
def tiny(tmp_path: Path) -> Path:
    """A small tree with the shape of HoSo's, where each case below adds one mistake."""
    for name in ("linkage/__init__.py", "linkage/vocab.py", "linkage/standardize/__init__.py",
                 "linkage/standardize/text.py", "linkage/matching/__init__.py", "linkage/matching/scoring.py",
                 "linkage/mpi/__init__.py", "linkage/mpi/plan.py", "graph/__init__.py", "graph/server.py",
                 "graph/connection.py", "analytics/__init__.py", "api/__init__.py", "api/app.py",
                 "linkage/synth/__init__.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / "linkage/matching/scoring.py").write_text("from linkage.standardize import fold\n")
    (tmp_path / "api/app.py").write_text("from linkage import fold\nfrom graph import open_driver\n")
    return tmp_path


def test_a_correct_tree_passes(tiny: Path) -> None:
    assert problems(import_graph(tiny), tiny) == []


@pytest.mark.parametrize(("path", "text", "expected"), [
    ("graph/server.py", "def f():\n    from graph.connection import x\n", "cycle"),
    ("linkage/standardize/text.py", "from linkage.matching import Scorer\n", "not a lower stage"),
    ("linkage/matching/scoring.py", "from linkage.mpi import LinkPlan\n", "not a lower stage"),
    ("linkage/vocab.py", "from graph import default_registry\n", "a higher layer"),
    ("api/app.py", "from linkage.standardize.text import fold\n", "import linkage instead"),
    ("linkage/mpi/plan.py", "from linkage.standardize.text import fold\n", "import linkage.standardize instead"),
    ("api/app.py", "import splink.internals.misc\n", "splink.internals outside"),
    ("graph/server.py", "from linkage.synth import generate\n", "for the command line only"),
])
def test_each_kind_of_mistake_is_named(tiny: Path, path: str, text: str, expected: str) -> None:
    target = tiny / path
    target.write_text(target.read_text() + text)
    if expected == "cycle":
        (tiny / "graph/connection.py").write_text("from graph.server import y\n")
    found = problems(import_graph(tiny), tiny)
    assert any(expected in problem for problem in found), found
