"""Boundaries the design notes ask for, checked in the code itself."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "donations"
EMULATOR = ROOT / "stripe_emulator"
# The gateway is the one production module that speaks Stripe; the emulator's HTTP client
# must subclass the SDK's HTTPClient to sit behind it.
GATEWAY = PACKAGE / "payments" / "gateway.py"
EMULATOR_TRANSPORT = EMULATOR / "http_client.py"

# --- reading imports with ast ---------------------------------------------------------------


def _modules(package: Path) -> dict[str, Path]:
    """Every module of a package by dotted name (a package is named by its __init__)."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST, *, skip_type_checking: bool) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, also inside functions; optionally not under `if TYPE_CHECKING`."""
    found: list[ast.Import | ast.ImportFrom] = []
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        if skip_type_checking and isinstance(node, ast.If) and _is_type_checking(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))
    return found


def _imported_names(
    name: str, path: Path, *, skip_type_checking: bool = False
) -> list[tuple[str, str | None]]:
    """(module, imported attribute or None) for every import, relative ones made absolute."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[str, str | None]] = []
    for node in _import_nodes(tree, skip_type_checking=skip_type_checking):
        if isinstance(node, ast.Import):
            found.extend((alias.name, None) for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            parts = package.split(".")
            anchor = ".".join(parts[: len(parts) - node.level + 1])
            base = f"{anchor}.{base}" if base else anchor
        found.extend((base, alias.name) for alias in node.names)
    return found


def _import_graph(package: Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (`from pkg import mod` names the submodule)."""
    modules = _modules(package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for module, attr in _imported_names(name, path, skip_type_checking=True):
            target = f"{module}.{attr}" if attr and f"{module}.{attr}" in modules else module
            if target in modules:
                graph[name].add(target)
    return graph


def _groups(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected groups of modules that import each other (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:  # recursive: the graphs here are small
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
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
            if len(group) > 1 or node in graph[node]:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One concrete cycle (a -> b -> a) per group of modules that import each other."""
    return sorted(_one_cycle(graph, group) for group in _groups(graph))


def _one_cycle(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    start = min(group)
    paths = {start: [start]}
    todo = [start]
    while todo:  # breadth first, inside the group, back to the start
        node = todo.pop(0)
        for nxt in sorted(graph[node] & group):
            if nxt == start:
                return [*paths[node], start]
            if nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                todo.append(nxt)
    raise AssertionError(f"no cycle through {start}")  # unreachable for a real group


def _describe(graph: dict[str, set[str]]) -> str:
    lines = []
    for group in _groups(graph):
        cycle = _one_cycle(graph, group)
        line = " -> ".join(cycle)
        if others := sorted(group - set(cycle)):
            line += f"  (also in the loop: {', '.join(others)})"
        lines.append(line)
    return "import cycles:\n" + "\n".join("  " + line for line in sorted(lines))


# --- the emulator stands alone --------------------------------------------------------------


def test_the_emulator_imports_nothing_from_donations():
    offenders = [
        f"{name}: {module}"
        for name, path in _modules(EMULATOR).items()
        for module, _ in _imported_names(name, path)
        if module == "donations" or module.startswith("donations.")
    ]
    assert offenders == []


def test_the_emulator_templates_use_only_its_own_templates():
    references = []
    for path in (EMULATOR / "templates").rglob("*.html"):
        text = path.read_text()
        references += re.findall(r"{%-?\s*(?:extends|include|import|from)\s+\"([^\"]+)\"", text)
    assert references
    assert all(ref.startswith("emulator/") for ref in references), references
    assert all((EMULATOR / "templates" / ref).is_file() for ref in references)


def test_the_emulator_imports_alone():
    code = (
        "import json, sys\n"
        "import stripe_emulator\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('donations'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


# --- who speaks Stripe ----------------------------------------------------------------------


def _imports_stripe(name: str, path: Path) -> bool:
    return any(m == "stripe" or m.startswith("stripe.") for m, _ in _imported_names(name, path))


def test_only_the_gateway_and_the_emulator_transport_import_stripe():
    modules = {**_modules(PACKAGE), **_modules(EMULATOR)}
    offenders = [
        str(path.relative_to(ROOT))
        for name, path in modules.items()
        if _imports_stripe(name, path) and path not in (GATEWAY, EMULATOR_TRANSPORT)
    ]
    assert offenders == []
    assert _imports_stripe("donations.payments.gateway", GATEWAY)


def test_the_pinned_api_version_is_written_once():
    version = re.compile(r"^\d{4}-\d{2}-\d{2}\.[a-z]+$")
    holders = [
        str(path.relative_to(ROOT))
        for path in [*PACKAGE.rglob("*.py"), *EMULATOR.rglob("*.py")]
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if version.match(node.value)
    ]
    assert holders == ["donations/facts/payload.py"]


# --- no import cycles -----------------------------------------------------------------------


def test_the_cycle_check_finds_cycles(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "from .a import A\n",
        "a.py": "from typing import TYPE_CHECKING\nfrom . import b\nif TYPE_CHECKING:\n"
        "    from .c import C\n",
        "b.py": "def f():\n    from pkg.sub import d\n",
        "c.py": "from .a import A\n",
        "sub/__init__.py": "",
        "sub/d.py": "from .. import a\n",
    }
    for name, text in files.items():
        (pkg / name).write_text(text)
    graph = _import_graph(pkg)
    assert graph["pkg.a"] == {"pkg.b"}  # the TYPE_CHECKING import is left out
    assert graph["pkg.sub.d"] == {"pkg.a"}
    assert _cycles(graph) == [["pkg.a", "pkg.b", "pkg.sub.d", "pkg.a"]]


def test_no_import_cycle_in_the_emulator():
    graph = _import_graph(EMULATOR)
    assert not _cycles(graph), _describe(graph)


def test_no_import_cycle_in_donations():
    graph = _import_graph(PACKAGE)
    assert not _cycles(graph), _describe(graph)


# --- layers: packages import only the layers below them ---------------------------------

# The package-level order, lowest first (drawn in the README, "Layers"). A package or top-level
# module (a "unit") may import only units of LOWER layers: never one above, never a sibling in
# its own layer. Every import counts, inside functions and under TYPE_CHECKING too.
LAYERS: list[set[str]] = [
    {"money", "mail", "ratelimit"},  # leaves: import nothing of ours
    {"currencies", "fees"},  # what we offer, in money
    {"models", "facts"},  # the tables; Stripe's objects read into typed facts
    {"extensions"},  # db, limiter, login manager (unbound)
    {"core"},  # site-wide infrastructure; domain values come by registration
    {"config", "pagination", "security"},
    {"membership"},  # applies facts to our records
    {"accounts", "articles"},
    {"payments"},  # gateway, webhooks, ledger, queue, sync
    {"api", "staff", "support"},  # feature blueprints
    {"cli"},
    {"donations"},  # the package root: create_app wires it all
]


def _unit(module: str, root: str) -> str:
    """The unit a module belongs to: the root itself, or its first part below the root."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _package_graph(package: Path) -> dict[str, set[str]]:
    """Unit -> the other units it imports, from every import anywhere in its modules."""
    modules = _modules(package)
    root = package.name
    graph: dict[str, set[str]] = {_unit(name, root): set() for name in modules}
    for name, path in modules.items():
        source = _unit(name, root)
        for module, attr in _imported_names(name, path):
            target = f"{module}.{attr}" if attr and f"{module}.{attr}" in modules else module
            if target.partition(".")[0] == root and _unit(target, root) != source:
                graph[source].add(_unit(target, root))
    return graph


def _layer_breaches(graph: dict[str, set[str]], layers: list[set[str]]) -> list[str]:
    """Every import of a unit in the same layer or above; units placed in no layer too."""
    level = {unit: i for i, layer in enumerate(layers) for unit in layer}
    breaches = [f"{unit}: in no layer" for unit in sorted(graph) if unit not in level]
    for unit, targets in sorted(graph.items()):
        for target in sorted(targets):
            if unit in level and target in level and level[target] >= level[unit]:
                breaches.append(f"{unit} -> {target}")
    return breaches


def test_the_layer_check_finds_a_package_cycle_and_an_upward_import(tmp_path):
    pkg = tmp_path / "pkg"
    for sub in ("low", "high"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    files = {
        "__init__.py": "",
        "base.py": "",
        # each module alone is fine (no module cycle): the loop is between the packages
        "high/view.py": "from pkg.low import rules\nfrom pkg import base\n",
        "low/rules.py": "def f():\n    from ..high import other\n",
        "high/other.py": "",
    }
    for name, text in files.items():
        (pkg / name).write_text(text)
    assert not _cycles(_import_graph(pkg))  # the module check alone would miss it
    graph = _package_graph(pkg)
    assert graph == {"pkg": set(), "base": set(), "low": {"high"}, "high": {"low", "base"}}
    assert _cycles(graph) == [["high", "low", "high"]]
    layers = [{"base"}, {"low"}, {"high"}, {"pkg"}]
    assert _layer_breaches(graph, layers) == ["low -> high"]
    assert _layer_breaches(graph, [{"base", "low", "high"}, {"pkg"}]) == [
        "high -> base",
        "high -> low",
        "low -> high",
    ]
    assert _layer_breaches(graph, [{"base"}, {"high"}]) == ["low: in no layer", "pkg: in no layer"]


def test_no_import_cycle_between_packages():
    graph = _package_graph(PACKAGE)
    assert not _cycles(graph), _describe(graph)


def test_packages_import_only_lower_layers():
    assert _layer_breaches(_package_graph(PACKAGE), LAYERS) == []


# --- the package root and what gets loaded --------------------------------------------------


def test_nothing_imports_the_package_root_but_wsgi_and_tests():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "donations":
                offenders.append(str(path.relative_to(ROOT)))
            if isinstance(node, ast.Import) and any(a.name == "donations" for a in node.names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def _loaded_modules_with(settings: str) -> set[str]:
    code = (
        "import sys, json\n"
        "from donations import create_app\n"
        f"create_app({{'TESTING': True, 'SECRET_KEY': 'x', {settings}}})\n"
        "mods = [m for m in sys.modules if m.startswith(('donations', 'stripe_emulator'))]\n"
        "print(json.dumps(sorted(mods)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_the_emulator_is_not_even_imported_with_a_stripe_key(tmp_path):
    db = f"'DATABASE_URL': 'sqlite:///{tmp_path}/a.db'"
    with_key = _loaded_modules_with(
        f"{db}, 'STRIPE_SECRET_KEY': 'sk_test_x', 'STRIPE_WEBHOOK_SECRET': 'whsec_x'"
    )
    assert not any(m.startswith("stripe_emulator") for m in with_key)
    without_key = _loaded_modules_with(f"{db}, 'STRIPE_EMULATOR_DB': '{tmp_path}/e.db'")
    assert "stripe_emulator" in without_key
