"""The import graph of the package, read with `ast` (nothing is imported): no circle between
modules, and no import inside a function except those listed below, each with its reason.

A deferred import of our own module hides a layering problem (a helper at the wrong level, a
circle); the ones kept load an optional dependency, or keep the command line's start-up short.
A new one fails here until it is moved to the top or listed with its reason; a listed one that
is gone fails too, so the list stays true. Run against another checkout with
``PYTHONPATH=<checkout>/src``."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

PACKAGE = "hybridstore"

OPTIONAL = "an optional dependency, absent without its extra: imported where it is used"
START_UP = "the command line's start-up: each command imports what it needs (cli/__init__)"
CHEAP = ("the CLI's habit of importing inside commands, though the module is cheap or already "
         "loaded: it could move to the top")
LAZY = "public names load on first use: `import hybridstore` loads no model or engine"
PDF = "PDFium (pypdfium2, 40 ms to import) loads only when a PDF page is rendered or counted"

# (module, what it imports inside a function) -> why the import stays there
DEFERRED = {
    (PACKAGE, "importlib.import_module"): LAZY,
    ("hybridstore.inference.quantize", "onnx"): OPTIONAL,
    ("hybridstore.inference.quantize", "onnxruntime.quantization"): OPTIONAL,
    ("hybridstore.cli.mcp", "mcp.server.mcpserver"): OPTIONAL,
    ("hybridstore.cli.inspecting", "hybridstore.inspector.answers"): START_UP,
    ("hybridstore.cli.inspecting", "hybridstore.inspector.endpoints"): OPTIONAL,
    ("hybridstore.cli.inspecting", "hybridstore.inspector.server"): OPTIONAL,
    ("hybridstore.cli", "importlib"): CHEAP,
    ("hybridstore.cli", "importlib.import_module"): START_UP,
    ("hybridstore.cli", "hybridstore.errors"): CHEAP,
    ("hybridstore.cli", "hybridstore.cli.report"): CHEAP,
    ("hybridstore.cli", "hybridstore.cli.words"): CHEAP,
    ("hybridstore.cli.report", "hybridstore.errors"): CHEAP,
    ("hybridstore.cli.report", "hybridstore.cli.words"): CHEAP,
    ("hybridstore.cli.report", "tqdm"): START_UP,
    ("hybridstore.cli.opening", "hybridstore.cli"): CHEAP,
    ("hybridstore.cli.opening", "hybridstore.inference"): START_UP,
    ("hybridstore.image_sources", "hybridstore.rendering"): PDF,
    ("hybridstore.cli.opening", "hybridstore.index"): START_UP,
    ("hybridstore.cli.opening", "hybridstore.settings"): START_UP,
    ("hybridstore.cli.commands", "dataclasses"): CHEAP,
    ("hybridstore.cli.commands", "hybridstore.beir"): START_UP,
    ("hybridstore.cli.commands", "hybridstore.cli.ingest"): START_UP,
    ("hybridstore.cli.commands", "hybridstore.copying"): START_UP,
    ("hybridstore.cli.commands", "hybridstore.index"): START_UP,
    ("hybridstore.cli.commands", "hybridstore.inference"): START_UP,
    ("hybridstore.cli.commands", "hybridstore.inference.batching"): START_UP,
    ("hybridstore.cli.commands", "hybridstore.settings"): START_UP,
    ("hybridstore.cli.evaluate", "hashlib"): CHEAP,
    ("hybridstore.cli.evaluate", "os"): CHEAP,
    ("hybridstore.cli.evaluate", "hybridstore.beir"): START_UP,
    ("hybridstore.cli.evaluate", "hybridstore.errors"): CHEAP,
    ("hybridstore.cli.evaluate", "tqdm"): START_UP,
    ("hybridstore.cli.mcp", "uuid"): CHEAP,
    ("hybridstore.cli.sources", "hybridstore.errors"): CHEAP,
    ("hybridstore.cli.sources", "hybridstore.image_sources"): START_UP,
    ("hybridstore.cli.sources", "hybridstore.qdrant.payload"): START_UP,
}
# circles kept for now, each named above with its reason
CIRCLES = {
}


def _root() -> Path:
    spec = importlib.util.find_spec(PACKAGE)  # finds the package without running it
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent


def _modules(root: Path) -> dict[str, Path]:
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


class _Imports(ast.NodeVisitor):
    """One module's imports: those run when it loads, and those inside a function (`importlib`
    calls too). `if TYPE_CHECKING:` blocks never run, so they are left out."""

    def __init__(self, name: str, is_package: bool, modules: set[str]) -> None:
        self.package = name if is_package else name.rpartition(".")[0]
        self.modules, self.depth = modules, 0
        self.top: set[str] = set()
        self.deferred: set[str] = set()

    def _add(self, targets: list[str]) -> None:
        (self.deferred if self.depth else self.top).update(targets)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING" or \
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING":
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self._add([alias.name for alias in node.names])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            package = self.package.split(".")
            base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
        # `from package import module` imports the module; `from module import name`, the module
        self._add([f"{base}.{a.name}" if f"{base}.{a.name}" in self.modules else base for a in node.names])

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name in ("import_module", "__import__"):
            self.deferred.add("importlib.import_module" if name == "import_module" else name)
        self.generic_visit(node)


def _graph(root: Path) -> tuple[dict[str, set[str]], set[tuple[str, str]]]:
    """Each module's imports of the package's modules (the packages a target sits in too,
    their __init__ runs first), and every (module, target) imported inside a function."""
    files = _modules(root)
    names = set(files)
    edges: dict[str, set[str]] = {}
    deferred = set()
    for name, path in files.items():
        found = _Imports(name, path.name == "__init__.py", names)
        found.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        deferred |= {(name, target) for target in found.deferred}
        edges[name] = set()
        for target in found.top | found.deferred:
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                module = ".".join(parts[:i])
                inside = name == module or name.startswith(module + ".")  # its own packages: loading
                if module in names and (module == target or not inside):
                    edges[name].add(module)
    return edges, deferred


def _circles(edges: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1 or node in edges.get(node, ()):
                out.append(frozenset(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return out


def test_no_import_circle():
    circles = set(_circles(_graph(_root())[0]))
    new = [sorted(c) for c in circles - set(CIRCLES)]
    gone = [sorted(c) for c in set(CIRCLES) - circles]
    assert not new, f"modules that import each other (directly or round a circle): {new}; put " \
                    "the shared helper at the level both build on"
    assert not gone, f"these circles are gone: take them out of CIRCLES: {gone}"


def test_no_deferred_import_but_the_listed_ones():
    deferred = _graph(_root())[1]
    new = sorted(deferred - set(DEFERRED))
    gone = sorted(set(DEFERRED) - deferred)
    assert not new, f"imports inside a function: {new}; import at the top (a circle or a helper at " \
                    "the wrong level is the real problem), or list it in DEFERRED with its reason"
    assert not gone, f"these deferred imports are gone: take them out of DEFERRED: {gone}"


def test_the_scan_sees_what_it_checks(tmp_path):
    """The scan itself, on a package made here: a circle closed by a deferred import, the
    package a module sits in, and an import only type checkers see (left out)."""
    files = {"__init__.py": "", "sub/__init__.py": "from . import b\n", "sub/b.py": "x = 1\n",
             "a.py": "from typing import TYPE_CHECKING\nfrom .sub.b import x\n"
                     "if TYPE_CHECKING:\n    from . import d\n"
                     "def f():\n    import json\n    from .c import y\n",
             "c.py": "from .a import f\ny = 2\n", "d.py": "import importlib\nimportlib.import_module('json')\n"}
    for name, text in files.items():
        (tmp_path / "pkg" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "pkg" / name).write_text(text)
    edges, deferred = _graph(tmp_path / "pkg")
    assert edges == {"pkg": set(), "pkg.a": {"pkg.sub", "pkg.sub.b", "pkg.c"}, "pkg.c": {"pkg.a"},
                     "pkg.d": set(), "pkg.sub": {"pkg.sub.b"}, "pkg.sub.b": set()}
    assert deferred == {("pkg.a", "json"), ("pkg.a", "pkg.c"), ("pkg.d", "importlib.import_module")}
    assert _circles(edges) == [frozenset({"pkg.a", "pkg.c"})]
