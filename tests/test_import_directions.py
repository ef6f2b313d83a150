"""Imports point inward (see shared STYLE.md):

interfaces -> application -> domain; interfaces -> projections -> domain.
domain imports only the standard library and eventsourcing.domain; FastAPI
and Pydantic live only in interfaces.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("domain", "application", "projections", "interfaces")
WEB = {"fastapi", "pydantic", "pydantic_settings", "starlette", "uvicorn"}
FORBIDDEN_LAYERS = {
    "domain": {"application", "projections", "interfaces"},
    "application": {"projections", "interfaces"},
    "projections": {"application", "interfaces"},
    "interfaces": set(),
}


def imports_of(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def violations(layer: str, source: str) -> list[str]:
    found = []
    for name in sorted(imports_of(source)):
        top = name.split(".")[0]
        if top in FORBIDDEN_LAYERS[layer]:
            found.append(f"{layer} imports {name}")
        if top in WEB and layer != "interfaces":
            found.append(f"{layer} imports the web framework {name}")
        if layer == "domain":
            is_stdlib = top in sys.stdlib_module_names
            if not (is_stdlib or top == "domain" or name == "eventsourcing.domain"):
                found.append(f"domain imports {name} (only stdlib and eventsourcing.domain)")
    return found


def test_layers_import_only_inward() -> None:
    problems = []
    checked = 0
    for layer in LAYERS:
        for path in (ROOT / layer).rglob("*.py"):
            checked += 1
            for problem in violations(layer, path.read_text()):
                problems.append(f"{path.relative_to(ROOT)}: {problem}")
    assert checked > 10, "the import check found almost no modules to read"
    assert problems == []


def test_the_checker_catches_wrong_directions() -> None:
    assert violations("domain", "import fastapi") != []
    assert violations("domain", "from psycopg import sql") != []
    assert violations("domain", "from eventsourcing.application import Application") != []
    assert violations("domain", "from application.logistics import Logistics") != []
    assert violations("application", "from projections.stock_on_hand import X") != []
    assert violations("application", "from pydantic import BaseModel") != []
    assert violations("projections", "import application.logistics") != []
    assert violations("domain", "from datetime import date\nfrom eventsourcing.domain import event") == []
