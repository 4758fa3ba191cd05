"""Dependencies run one way: feature code → permissions → models and the kernel.

The project's modules are read as text (nothing is imported), every import is followed, including
those inside functions, and:

- no two modules import each other, directly or through others (no cycle);
- no import hides inside a function to dodge a cycle (only an app's ``ready()`` may import late,
  to connect signals, and ``if TYPE_CHECKING:`` blocks are for annotations only);
- the bottom layers import nothing above them: ``kernel`` only models and the audit recorder,
  ``permissions`` only its own modules, the kernel, the audit recorder and other apps' models.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

PROJECT_PACKAGES = (
    "accounts",
    "audit",
    "billing",
    "kernel",
    "permissions",
    "portal",
    "privacy",
    "sso",
    "scim",
    "webhooks",
    "background",
    "twofactor",
    "workspace_settings",
    "workspaces",
)
# What every layer may use: the source-of-truth models and the audit recorder (which every
# service calls in its own transaction).
SHARED_BOTTOM = ("audit.services", "audit.context", "audit.models")


def _module_name(path: Path, base: Path) -> str:
    parts = path.relative_to(base).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _project_modules() -> dict[str, Path]:
    base = Path(settings.BASE_DIR)
    found = {}
    for package in PROJECT_PACKAGES:
        for path in (base / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path, base)] = path
    return found


class _Imports(ast.NodeVisitor):
    """Every import of a module, with whether it sits in a function (and which)."""

    def __init__(self, module: str, is_package: bool):
        self.package = module if is_package else module.rpartition(".")[0]
        self.found: list[tuple[str, str | None]] = []  # (imported name, enclosing function)
        self._function: list[str] = []

    def visit_If(self, node: ast.If) -> None:
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def _visit_function(self, node) -> None:
        self._function.append(node.name)
        self.generic_visit(node)
        self._function.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = _visit_function

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            parent = self.package.split(".")
            parent = parent[: len(parent) - node.level + 1]
            base = ".".join(parent + ([base] if base else []))
        for alias in node.names:
            self._add(f"{base}.{alias.name}")

    def _add(self, name: str) -> None:
        self.found.append((name, self._function[-1] if self._function else None))


def _graph() -> tuple[dict[str, set[str]], list[str]]:
    modules = _project_modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    late: list[str] = []
    for name, path in modules.items():
        visitor = _Imports(name, path.name == "__init__.py")
        visitor.visit(ast.parse(path.read_text(), filename=str(path)))
        for imported, function in visitor.found:
            target = imported if imported in modules else imported.rpartition(".")[0]
            if target not in modules or target == name:
                continue
            if modules[target].name == "__init__.py" and not modules[target].read_text().strip():
                continue  # an empty package: importing a module from it is not a dependency on it
            graph[name].add(target)
            if function is not None and function != "ready":
                late.append(f"{name} imports {target} inside {function}()")
    return graph, late


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_the_projects_modules():
    graph, _ = _graph()
    assert not _cycles(graph), f"Import cycles: {_cycles(graph)}"


def test_the_cycle_finder_finds_a_cycle():
    """The test above would pass vacuously if the finder never found anything."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_hides_inside_a_function():
    _, late = _graph()
    assert not late, "Imports inside functions (move the module, not the import):\n" + "\n".join(sorted(late))


def _allowed_below(module: str, target: str) -> bool:
    if target.endswith(".models") or target in SHARED_BOTTOM or target.startswith("kernel"):
        return True
    return target.split(".")[0] == module.split(".")[0]


def test_the_kernel_and_permissions_import_nothing_above_them():
    graph, _ = _graph()
    wrong = [
        f"{module} imports {target}"
        for module, targets in graph.items()
        if module.split(".")[0] in ("kernel", "permissions")
        for target in targets
        if not _allowed_below(module, target)
    ]
    assert not wrong, "Upward imports from the bottom layers:\n" + "\n".join(sorted(wrong))
