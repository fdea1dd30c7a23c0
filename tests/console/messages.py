"""Every English message the console shows: ``_('…')`` in its templates, and in its Python
``_()``, ``page._()``, ``gettext()``, ``N_()`` and ``form.error(field, '…')``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates" / "console"
PYTHON = ROOT / "console" / "web"
# _('…') or _("…") in a template; the literal may hold the other kind of quote.
IN_TEMPLATE = re.compile(r"""\b_\(\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*\)""")
CALLS = {"_", "N_", "gettext"}
SKIP = {"pay.py"}  # the pay page belongs to the email channel and has its own catalogue


def from_templates() -> set[str]:
    found = set()
    for path in TEMPLATES.rglob("*.html"):
        for single, double in IN_TEMPLATE.findall(path.read_text()):
            found.add((single or double).replace("\\'", "'").replace('\\"', '"'))
    return found


def from_python() -> set[str]:
    found = set()
    for path in PYTHON.rglob("*.py"):
        if path.name in SKIP:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = (
                node.func.attr
                if isinstance(node.func, ast.Attribute)
                else getattr(node.func, "id", "")
            )
            if name in CALLS:
                args = node.args[:1]
            elif name == "error" and len(node.args) == 2:
                args = node.args[1:]
            else:
                continue
            found.update(
                a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)
            )
    return found


def console_messages() -> set[str]:
    return from_templates() | from_python()
