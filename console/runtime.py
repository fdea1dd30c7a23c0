"""Builds the context once and runs the configured roles in one TaskGroup until a signal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator

import uvicorn
from starlette.routing import BaseRoute

from booking.context import Context
from booking.schema import check_schema
from booking.settings import CoreSettings
from booking.settings_store import GENERATED_NOTICE, secret_key, secret_key_problem
from bot.runner import BotRole
from bot.runner import role_status as bot_status
from bot.settings import BotSettings
from console.payments.build import build_provider, check_test_payments
from console.payments.settings import PaySettings
from console.serving import trusted_proxies, web_config
from console.settings import ConfigurationError, RuntimeSettings
from console.web import account, pay, renew_page, ticket_page
from console.web.app import build_app
from mail.role import MailRole
from mail.role import role_status as mail_status
from mail.settings import MailSettings
from scheduler.runner import run_worker

log = logging.getLogger("guichet")
ROLES = ("bot", "web", "worker")


def role_status(settings: RuntimeSettings, wanted: set[str]) -> dict[str, str]:
    """Each role: "running", or a plain sentence saying why not and what turns it on."""
    status = {
        role: "running" if role in wanted else "off (not asked for with --role)" for role in ROLES
    }
    if "bot" in wanted:
        status["bot"] = (
            bot_status(BotSettings(), web="web" in wanted)
            if settings.bot_token
            else "off: set GUICHET_BOT_TOKEN to run the Telegram bot"
        )
    status["mail"] = mail_status(MailSettings(), worker="worker" in wanted)
    return status


def check_configuration(core: CoreSettings, runtime: RuntimeSettings) -> None:
    """Refuse, before anything starts, a configuration that must not run (the message names
    the variable to fix): behind https a missing or short GUICHET_SECRET_KEY or the test
    payment provider without GUICHET_ALLOW_TEST_PAYMENTS; a malformed GUICHET_TRUSTED_PROXIES."""
    problem = secret_key_problem(core)
    if problem:
        raise ConfigurationError(problem)
    trusted_proxies(runtime.trusted_proxies)
    payments = PaySettings()
    if payments.provider_name == "test":
        check_test_payments(core.public_url, allowed=payments.allow_test_payments)


def public_url_warning(core: CoreSettings) -> str | None:
    """Unset, GUICHET_PUBLIC_URL follows the web role's address: fine on one machine, but
    links in emails and chats then reach no customer elsewhere, so serve says it."""
    if core.public_url_set:
        return None
    return (
        f"GUICHET_PUBLIC_URL is not set: links sent to customers (pay pages, emails) use "
        f"{core.public_url}, which only this machine reaches; set it to the address customers use"
    )


async def serve(wanted: set[str]) -> int:
    core, runtime = CoreSettings(), RuntimeSettings()
    check_configuration(core, runtime)
    generated = not core.secret_key
    ctx = Context.create(core)
    telegram: BotRole | None = None
    mail: MailRole | None = None
    try:
        await check_schema(ctx.db)
        await secret_key(ctx)
        if generated:  # plainly, once: the key that signs everything sits in the database
            log.warning(GENERATED_NOTICE)
        warning = public_url_warning(core)
        if warning:
            log.warning(warning)
        status = role_status(runtime, wanted)
        for role, state in status.items():
            log.info("role %-6s %s", role, state)
        routes: list[BaseRoute] = list(
            pay.routes(ctx, build_provider(PaySettings(), public_url=core.public_url))
        )
        routes += ticket_page.routes(ctx)  # /t/<secret>, what ticket QR codes open
        routes += renew_page.routes(ctx)  # /renew/<token>, from a renewal invitation
        routes += account.routes(ctx)  # /account, the holder page (issue 13)
        if MailSettings().configured:  # any process running the worker sends email
            mail = MailRole(ctx, MailSettings())
            ctx.channels["email"] = mail.channel()
        if runtime.bot_token:  # even a worker-only process delivers notices through Telegram
            telegram = BotRole(ctx, BotSettings())
            ctx.channels["telegram"] = telegram.channel()
            if status["bot"] == "running" and telegram.settings.bot_mode == "webhook":
                routes.append(await telegram.webhook_route())
        stop = asyncio.Event()
        with _signals(stop):
            async with asyncio.TaskGroup() as group:
                if status["web"] == "running":
                    group.create_task(_web(ctx, runtime, status, stop, routes))
                if status["worker"] == "running":
                    group.create_task(run_worker(ctx, stop))
                if telegram is not None and status["bot"] == "running":
                    group.create_task(telegram.run(stop))
                if mail is not None and status["mail"] == "running":
                    group.create_task(mail.run(stop))
                group.create_task(stop.wait())
        log.info("stopped cleanly")
        return 0
    finally:
        if telegram is not None:
            await telegram.close()
        if mail is not None:
            await mail.close()
        await ctx.close()


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the runtime owns SIGINT/SIGTERM and stops every role together


async def _web(
    ctx: Context,
    runtime: RuntimeSettings,
    status: dict[str, str],
    stop: asyncio.Event,
    routes: list[BaseRoute],
) -> None:
    server = _Server(web_config(build_app(ctx, status, extra_routes=routes), runtime))
    task = asyncio.create_task(server.serve())
    log.info("web on http://%s:%d (health: /healthz)", runtime.web_host, runtime.web_port)
    await stop.wait()
    server.should_exit = True
    await task


@contextlib.contextmanager
def _signals(stop: asyncio.Event) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        yield
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
