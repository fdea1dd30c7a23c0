"""Every word of the emails and of the pay page has a French translation."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from jinja2.ext import babel_extract

from booking.i18n import translations

ROOT = Path(__file__).resolve().parents[2]


def test_every_mail_and_pay_page_string_has_a_french_translation() -> None:
    french = translations("fr")
    found: set[str] = set()
    for path in [*ROOT.glob("templates/mail/*"), *ROOT.glob("templates/pay/*")]:
        with path.open("rb") as template:
            for _, _, message, _ in babel_extract(
                template, ("_",), [], {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "1"}
            ):
                found.add(message if isinstance(message, str) else message[0])
    tree = ast.parse((ROOT / "mail" / "render.py").read_text())
    found |= {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "N_"
    }
    placeholders = re.compile(r"%\(\w+\)s|\{\w+\}")
    same_in_french = {"Total", "%(count)s place(s)"}
    missing = [m for m in found if french.gettext(m) == m and m not in same_in_french]
    assert not missing
    for message in found:
        assert sorted(placeholders.findall(french.gettext(message))) == sorted(
            placeholders.findall(message)
        ), message
