"""The import arrows point one way (DESIGN.md): http -> services -> {domain, tokens, store}.

Walks every module under src/azmi with `ast`, resolving relative imports, and checks the rules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import azmi

ROOT = Path(azmi.__file__).parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)  # `from azmi import http`
    return {m for m in found if m == "azmi" or m.startswith("azmi.")}


MODULES = {module_name(p): imports_of(p) for p in ROOT.rglob("*.py")}


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(source: str, forbidden: list[str], allowed: list[str] | None = None) -> list[str]:
    out = []
    for mod, deps in MODULES.items():
        if not within(mod, source):
            continue
        for dep in deps:
            if within(dep, source) or dep == "azmi":
                continue
            if allowed is not None:
                if not any(within(dep, a) for a in allowed):
                    out.append(f"{mod} -> {dep}")
            elif any(within(dep, f) for f in forbidden):
                out.append(f"{mod} -> {dep}")
    return sorted(out)


def test_the_walk_sees_the_project() -> None:
    assert {"azmi.domain.selection", "azmi.tokens.jwt_codec", "azmi.http.imds", "azmi.services.tokens"} <= set(MODULES)
    assert "azmi.domain.selection" in MODULES["azmi.services.tokens"]
    assert "azmi.errors" in MODULES["azmi.domain.selection"]


def test_domain_imports_only_errors_and_ids() -> None:
    assert violations("azmi.domain", [], allowed=["azmi.errors", "azmi.ids"]) == []


def test_only_http_and_cli_import_http() -> None:
    bad = sorted(f"{mod} -> {dep}" for mod, deps in MODULES.items() for dep in deps
                 if within(dep, "azmi.http") and not (within(mod, "azmi.http") or within(mod, "azmi.cli")))
    assert bad == []


def test_tokens_do_not_import_services_store_or_http() -> None:
    assert violations("azmi.tokens", ["azmi.services", "azmi.store", "azmi.http", "azmi.cli"]) == []


def test_store_does_not_import_services_or_http() -> None:
    assert violations("azmi.store", ["azmi.services", "azmi.http", "azmi.cli"]) == []


def test_services_do_not_import_http_or_cli() -> None:
    assert violations("azmi.services", ["azmi.http", "azmi.cli"]) == []


def test_foundations_import_no_layer() -> None:
    for mod in ("azmi.settings", "azmi.errors", "azmi.ids", "azmi.clock"):
        bad = [d for d in MODULES[mod] if not (within(d, "azmi.errors") or within(d, "azmi.ids") or d == "azmi")]
        assert bad == [], mod


def test_only_settings_reads_the_environment() -> None:
    readers = []
    for path in ROOT.rglob("*.py"):
        mod = module_name(path)
        if mod == "azmi.settings" or within(mod, "azmi.cli"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv") and \
                    isinstance(node.value, ast.Name) and node.value.id == "os":
                readers.append(mod)
    assert readers == []
