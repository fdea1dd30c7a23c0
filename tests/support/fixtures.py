"""pytest fixtures for the loopback test servers.

Import the ones a module needs (``from tests.support.fixtures import smtp_server  # noqa: F401``)
or re-export them from a conftest.py.

``dovecot`` is function-scoped: a fresh server and mailbox start in well under a second (about
20-50 ms here), so there is no shared mailbox state to reset between tests.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from tests.support.fake_bot_api import FakeBotAPI
from tests.support.mailservers import DOVECOT_MISSING, Dovecot, SmtpRecorder, dovecot_binary


def require_service(available: bool, reason: str) -> None:
    """Skip when a service is missing, unless CI demands every service (then fail)."""
    if available:
        return
    if os.environ.get("GUICHET_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (GUICHET_REQUIRE_SERVICES=1 forbids skipping)")
    pytest.skip(reason)


@pytest_asyncio.fixture
async def fake_bot_api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        yield fake


@pytest.fixture
def smtp_server(request: pytest.FixtureRequest) -> Iterator[SmtpRecorder]:
    """Plain SMTP; parametrize indirectly for options, e.g. ``[{"auth": ("u", "p")}]``."""
    with SmtpRecorder(**getattr(request, "param", {})) as server:
        yield server


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    require_service(dovecot_binary() is not None, DOVECOT_MISSING)
    with Dovecot() as server:
        yield server
