"""Secrets: the secret key behind https, tokens kept out of the access log, the test payment
provider kept off a real deployment. Each guard with the companion that removes it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from booking import settings_store
from booking.context import Context
from booking.services import checkouts
from booking.settings import CoreSettings
from booking.settings_store import SecretKeyRequired, secret_key
from console import runtime, serving
from console.payments import build
from console.payments.build import build_provider
from console.payments.settings import PaySettings
from console.settings import ConfigurationError, RuntimeSettings
from console.web import pay
from console.web.app import build_app
from tests.builders import make_catalog, make_customer, make_held_booking
from tests.console.served import served

HTTPS = "https://tickets.example"
LONG_KEY = "k" * 32


def core(**values: Any) -> CoreSettings:
    return CoreSettings(_env_file=None, **values)  # type: ignore[call-arg]


def runtime_settings() -> RuntimeSettings:
    return RuntimeSettings(_env_file=None)  # type: ignore[call-arg]


@pytest.fixture(autouse=True)
def no_pay_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    names = ("GUICHET_PAY_PROVIDER", "GUICHET_ALLOW_TEST_PAYMENTS", "GUICHET_STRIPE_SECRET_KEY")
    for name in names:
        monkeypatch.delenv(name, raising=False)


# -- the secret key behind https ------------------------------------------------------------------


@pytest.mark.parametrize("key", ["", "short but not 32 bytes"])
def test_serve_refuses_an_https_public_url_without_a_long_enough_secret_key(key: str) -> None:
    with pytest.raises(ConfigurationError, match="GUICHET_SECRET_KEY"):
        runtime.check_configuration(core(public_url=HTTPS, secret_key=key), runtime_settings())


def test_a_long_enough_key_or_a_local_url_may_serve() -> None:
    runtime.check_configuration(core(public_url=HTTPS, secret_key=LONG_KEY), runtime_settings())
    runtime.check_configuration(core(public_url="http://127.0.0.1:8000"), runtime_settings())
    multibyte = "é" * 16  # 32 bytes in UTF-8: the rule counts bytes, not characters
    runtime.check_configuration(core(public_url=HTTPS, secret_key=multibyte), runtime_settings())


def test_unguarded_serve_starts_behind_https_with_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "secret_key_problem", lambda settings: "")
    runtime.check_configuration(core(public_url=HTTPS), runtime_settings())  # nothing refuses


async def stored_keys(ctx: Context) -> list[str]:
    async def work(session: Any) -> list[str]:
        rows = await session.execute(text("SELECT value FROM setting WHERE key = 'secret_key'"))
        return [r[0] for r in rows]

    return await ctx.db.read(work)


def https_context(ctx: Context) -> Context:
    settings = core(database_url=ctx.settings.database_url, public_url=HTTPS)
    return Context(settings=settings, db=ctx.db, clock=ctx.clock)


async def test_no_key_is_ever_generated_into_the_database_behind_https(sqlite_ctx: Context) -> None:
    public = https_context(sqlite_ctx)
    with pytest.raises(SecretKeyRequired, match="GUICHET_SECRET_KEY"):
        await secret_key(public)
    assert await stored_keys(sqlite_ctx) == []


async def test_unguarded_the_generated_key_lands_in_the_database_in_plain_text(
    sqlite_ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings_store, "secret_key_problem", lambda settings: "")
    public = https_context(sqlite_ctx)
    key = await secret_key(public)
    assert await stored_keys(sqlite_ctx) == [key]


async def test_a_local_run_keeps_its_generated_key_and_says_so(sqlite_ctx: Context) -> None:
    local = core(database_url=sqlite_ctx.settings.database_url)
    ctx = Context(settings=local, db=sqlite_ctx.db, clock=sqlite_ctx.clock)
    key = await secret_key(ctx)
    assert await stored_keys(sqlite_ctx) == [key] and len(key.encode()) >= 32
    again = Context(settings=core(database_url=local.database_url), db=ctx.db, clock=ctx.clock)
    assert await secret_key(again) == key  # every process of the instance signs alike
    notice = settings_store.GENERATED_NOTICE
    assert notice.startswith("using a generated secret key kept in the database; set ")
    assert "GUICHET_SECRET_KEY" in notice


# -- the access log --------------------------------------------------------------------------------


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def access_log() -> Iterator[Lines]:
    handler = Lines()  # attached once the server runs (see visit_secret_addresses)
    yield handler
    logging.getLogger(serving.ACCESS_LOGGER).removeHandler(handler)


async def visit_secret_addresses(ctx: Context, access_log: Lines) -> tuple[str, list[str]]:
    """A real pay link and a ticket-like address through a real uvicorn: the access log lines."""
    cat = await make_catalog(ctx)
    booking = await make_held_booking(ctx, cat, await make_customer(ctx))
    token = await checkouts.pay_link_token(ctx, booking=booking)
    app = build_app(ctx, {}, extra_routes=pay.routes(ctx, None))
    async with (
        served(app, log_level="info") as base_url,
        httpx.AsyncClient(base_url=base_url) as browser,
    ):
        # uvicorn's Config re-applies its logging config (dropping handlers): listen after it.
        logging.getLogger(serving.ACCESS_LOGGER).addHandler(access_log)
        assert (await browser.get(f"/pay/{token}")).status_code == 200
        await browser.get(f"/pay/{token}/done?session={token}")
        await browser.get(f"/t/{token}")
        await browser.get(f"/console/login?next=/pay/{token}")
        assert (await browser.get("/healthz")).status_code == 200
    return token, [line for line in access_log.lines if '"GET ' in line]


async def test_the_access_log_shows_no_pay_or_ticket_token(
    sqlite_ctx: Context, access_log: Lines
) -> None:
    token, lines = await visit_secret_addresses(sqlite_ctx, access_log)
    assert len(lines) == 5, lines
    assert not [line for line in lines if token in line]
    assert '"GET /pay/… HTTP/1.1" 200' in lines[0]
    assert '"GET /pay/…/done?session=… HTTP/1.1"' in lines[1]
    assert '"GET /t/… HTTP/1.1" 404' in lines[2]
    assert '"GET /console/login?next=… HTTP/1.1"' in lines[3]
    assert '"GET /healthz HTTP/1.1" 200' in lines[4]


async def test_unguarded_the_access_log_shows_the_pay_token(
    sqlite_ctx: Context, access_log: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    logger = logging.getLogger(serving.ACCESS_LOGGER)
    monkeypatch.setattr(logger, "filters", [])
    monkeypatch.setattr(serving, "redact_access_log", lambda: None)
    token, lines = await visit_secret_addresses(sqlite_ctx, access_log)
    assert f"/pay/{token}" in lines[0]


def test_redaction_keeps_the_route_words_and_hides_the_rest() -> None:
    assert serving.redact_path("/pay/webhook/stripe") == "/pay/webhook/stripe"
    assert serving.redact_path("/pay/test/test_abc") == "/pay/test/…"
    assert serving.redact_path("/pay/abc/checkout") == "/pay/…/checkout"
    assert serving.redact_path("/t/abc") == "/t/…"
    assert serving.redact_path("/console/bookings?q=Dupont&page") == "/console/bookings?q=…&page"
    assert serving.redact_path("/healthz") == "/healthz"


# -- forwarded headers: the setting is checked --------------------------------------------------


def test_a_malformed_trusted_proxy_list_is_refused_with_the_variable_named() -> None:
    assert serving.trusted_proxies(" 10.0.0.1, 192.168.0.0/16 ,") == ["10.0.0.1", "192.168.0.0/16"]
    with pytest.raises(ConfigurationError, match="GUICHET_TRUSTED_PROXIES"):
        serving.trusted_proxies("10.0.0.1, proxy.example")


# -- the test payment provider ---------------------------------------------------------------------


def test_payments(**values: Any) -> PaySettings:
    return PaySettings(_env_file=None, pay_provider="test", **values)  # type: ignore[call-arg]


test_payments.__test__ = False  # type: ignore[attr-defined]  # a builder, not a test


def test_the_test_provider_refuses_to_run_behind_https_unless_allowed() -> None:
    with pytest.raises(ConfigurationError, match="GUICHET_ALLOW_TEST_PAYMENTS"):
        build_provider(test_payments(), public_url=HTTPS)
    allowed = build_provider(test_payments(allow_test_payments=True), public_url=HTTPS)
    assert allowed is not None and allowed.is_test
    local = build_provider(test_payments(), public_url="http://127.0.0.1:8000")
    assert local is not None and local.is_test


def test_serve_refuses_the_test_provider_behind_https(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUICHET_PAY_PROVIDER", "test")
    with pytest.raises(ConfigurationError, match="GUICHET_ALLOW_TEST_PAYMENTS"):
        runtime.check_configuration(core(public_url=HTTPS, secret_key=LONG_KEY), runtime_settings())
    monkeypatch.setenv("GUICHET_ALLOW_TEST_PAYMENTS", "true")
    runtime.check_configuration(core(public_url=HTTPS, secret_key=LONG_KEY), runtime_settings())


def test_unguarded_the_test_provider_runs_behind_https(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "check_test_payments", lambda public_url, *, allowed: None)
    provider = build_provider(test_payments(), public_url=HTTPS)
    assert provider is not None and provider.is_test  # bookings marked paid, no money moved
