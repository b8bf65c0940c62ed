"""The UI runs no SQL: every query lives behind a function of `clerk_app` or `sync`.

Read with `ast` (nothing is imported or run): no module in `ui/` other than the database worker
touches a connection (`.conn`, `.execute…`, `.cursor`, `.transaction`) or the store's query
helpers (`store.query`, `store.db`), imports a SQLite driver or holds a string that reads as
SQL. The developer tools (`tools/`) follow the
same rule, so that their queries, too, are the core's. And the widgets reach the DB worker only
through `ui.operation.Op`.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DB_WORKER = ROOT / "ui" / "db_worker.py"
CONNECTION_ATTRIBUTES = {"conn", "execute", "executemany", "executescript", "cursor",
                         "transaction"}
# On a name that holds the register (`store`, or annotated `Store`); elsewhere `.db` is the
# window's DbWorker and `.query` an argparse option.
STORE_ATTRIBUTES = {"query", "db"}
DRIVERS = {"sqlite3", "sqlcipher3", "sqlite_utils"}
SQL = re.compile(r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|"
                 r"CREATE\s+(TABLE|INDEX)|PRAGMA\s)", re.IGNORECASE | re.DOTALL)


def store_touches(source: str) -> list[str]:
    """What in `source` runs SQL or reaches for a connection, as 'line: what' strings."""
    tree = ast.parse(source)
    stores = {"store"} | {arg.arg for arg in ast.walk(tree) if isinstance(arg, ast.arg)
                          and isinstance(arg.annotation, ast.Name | ast.Constant)
                          and "Store" in ast.unparse(arg.annotation)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and (
                node.attr in CONNECTION_ATTRIBUTES
                or (node.attr in STORE_ATTRIBUTES and isinstance(node.value, ast.Name)
                    and node.value.id in stores)):
            found.append(f"{node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [
                alias.name for alias in node.names]
            found += [f"{node.lineno}: import {n}" for n in names if n.split(".")[0] in DRIVERS]
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and SQL.search(node.value)):
            found.append(f"{node.lineno}: SQL text {node.value[:40]!r}")
    return found


def _modules() -> list[Path]:
    files = sorted((ROOT / "ui").rglob("*.py")) + sorted((ROOT / "tools").rglob("*.py"))
    return [f for f in files if f != DB_WORKER]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_sql_outside_the_core(path: Path) -> None:
    assert store_touches(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("source", [
    "rows = store.conn.execute('x').fetchall()",
    "rows = store.query('x')",
    "def f(register: Store) -> None:\n    register.db['persons'].insert({})",
    "with store.transaction() as db:\n    pass",
    "import sqlite3",
    "from sqlcipher3 import dbapi2",
    "Q = 'select id from persons where x = ?'",
    "Q = ('SELECT id '\n     'FROM persons')",
])
def test_the_check_sees_sql(source: str) -> None:
    assert store_touches(source)


def test_the_check_passes_plain_ui_code() -> None:
    assert store_touches("self.db.run(lambda store: load(store), done)\n"
                         "label.setText('Bitte wählen')\nprint(args.query)") == []


def _calls(source: str, attribute: str) -> list[int]:
    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == attribute]


@pytest.mark.parametrize("path", sorted((ROOT / "ui").rglob("*.py")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_widgets_reach_the_worker_only_through_an_operation(path: Path) -> None:
    """`DbWorker.send` is `ui.operation.Op`'s channel; whether the owner is still there is
    `Op`'s question (no hand-made `isValid` checks in the widgets)."""
    if path.name in ("operation.py", "db_worker.py"):
        return
    source = path.read_text(encoding="utf-8")
    assert _calls(source, "send") == []
    assert "isValid(" not in source.replace("index.isValid(", "").replace(
        "parent.isValid(", "")
