"""booking.queries only reads: no write transaction, no session.add/delete/flush, no INSERT,
UPDATE or DELETE statement. With the import-linter contract (no command module imported), a
read view cannot change state by accident."""

from __future__ import annotations

import ast
from pathlib import Path

import booking.queries

WRITES = {"write", "add", "add_all", "delete", "flush", "merge", "insert", "update", "commit"}


def writes_in(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = (
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        )
        if name in WRITES:
            found.append(f"line {node.lineno}: {name}(…)")
    return found


def test_no_query_module_writes() -> None:
    folder = Path(booking.queries.__file__).parent
    modules = sorted(folder.glob("*.py"))
    assert len(modules) >= 8
    offences = {m.name: writes_in(m.read_text()) for m in modules}
    assert {name: found for name, found in offences.items() if found} == {}


def test_the_check_sees_a_write() -> None:
    """The companion: a query that writes is caught."""
    sneaky = "async def work(session):\n    session.add(row)\n    await ctx.db.write(work)\n"
    assert writes_in(sneaky) == ["line 2: add(…)", "line 3: write(…)"]
