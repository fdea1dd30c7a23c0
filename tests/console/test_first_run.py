"""The first run on a fresh machine: every role imports without the optional extras, and links
follow the web role's address until GUICHET_PUBLIC_URL is set (serve says so)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from booking.settings import CoreSettings
from console.runtime import public_url_warning
from mail.settings import MailSettings


def core(**values: Any) -> CoreSettings:
    return CoreSettings(_env_file=None, **values)  # type: ignore[call-arg]


def test_links_follow_a_changed_web_port_when_no_public_url_is_set() -> None:
    assert core(web_port=8123).public_url == "http://127.0.0.1:8123"
    assert core(web_host="0.0.0.0", web_port=9000).public_url == "http://127.0.0.1:9000"
    mail = MailSettings(_env_file=None, web_port=8123)  # type: ignore[call-arg]
    assert mail.public_url == "http://127.0.0.1:8123"


def test_serve_warns_only_while_the_public_url_is_unset() -> None:
    warning = public_url_warning(core(web_port=8123))
    assert warning is not None
    assert "GUICHET_PUBLIC_URL" in warning and "http://127.0.0.1:8123" in warning
    assert public_url_warning(core(public_url="https://tickets.example")) is None


def test_every_role_imports_without_redis_installed() -> None:
    """The base install has no ``redis``: block it and import what serve imports."""
    code = (
        "import sys; sys.modules['redis'] = None\n"
        "import console.cli, console.runtime, bot.app, bot.storage\n"
        "from bot.storage import build_storage\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
