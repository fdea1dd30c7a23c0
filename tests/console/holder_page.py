"""Builders and a browser for the holder page tests (``/account``, issue 13): passes sold and
paid at the box office, the app with the holder page mounted, the email channel on a real SMTP
server on loopback, and a client that keeps its cookie and CSRF token and reads the mailed
code back from the SMTP server."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import outbox
from booking.context import Context
from booking.queries import passes as pass_queries
from booking.rules import pass_products as rules
from booking.services import holder_access, pass_products, passes, payments
from booking.tables.holder_access import HolderCode, HolderSession
from booking.tables.outbox import OutboxMessage
from booking.views import CustomerView
from console.web import account
from console.web.app import build_app
from mail.channel import EmailChannel
from mail.smtp import SmtpSender
from tests.booking.test_pass_products import product, season_with_events
from tests.booking.test_pass_sale import seat_id
from tests.builders import STAFF, make_customer
from tests.mail.conftest import PUBLIC_URL, settings_for
from tests.support.mailservers import ReceivedMessage, SmtpRecorder

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
CODE = re.compile(r"^\s+(\d{6})\s*$", re.MULTILINE)
CHANNELS = ("telegram", "email", "console")
CODE_SUBJECTS = ("Your code for the holder page", "Votre code pour l'espace abonné")


@dataclass(frozen=True, slots=True)
class Holder:
    customer: CustomerView
    pass_id: int
    code: str
    secret: str
    reference: str
    email: str


@dataclass(frozen=True, slots=True)
class Season:
    ids: dict[str, int]
    product_id: int


async def season(ctx: Context) -> Season:
    """A season with two events (five dates) and a fixed-seat pass sold in every channel."""
    ids = await season_with_events(ctx)
    fields = rules.holder_fields({"first_name": "required", "photo": "optional"})
    product_id = await pass_products.create_product(
        ctx, actor=STAFF, settings=product(ids, buy_channels=CHANNELS, holder_fields=fields)
    )
    return Season(ids, product_id)


async def holder(
    ctx: Context,
    found: Season,
    *,
    email: str = "ana@example.org",
    name: str = "Ana Test",
    first_name: str = "Ana",
    language: str = "en",
    seat: int = 3,
    paid: bool = True,
) -> Holder:
    """A customer with a pass (seat A``seat``), paid at the box office unless ``paid=False``."""
    customer = await make_customer(ctx, email=email, name=name, language=language)
    sold = await passes.sell(
        ctx, actor=STAFF, product_id=found.product_id, customer_id=customer.id,
        answers={"first_name": first_name},
        seat_id=await seat_id(ctx, found.ids["Stalls"], "A", seat),
    )  # fmt: skip
    if paid:
        await payments.record_box_office_payment(
            ctx, actor=STAFF, reference=sold.reference, method="cash"
        )
    secret = (await pass_queries.pass_detail(ctx, pass_id=sold.id)).secret
    return Holder(customer, sold.id, sold.code, secret, sold.reference, email)


def app_for(ctx: Context) -> Any:
    return build_app(ctx, {}, extra_routes=account.routes(ctx))


class Mail:
    """The email channel on ``ctx`` (so codes can be mailed), sending to a real SMTP server."""

    def __init__(self, ctx: Context, smtp: SmtpRecorder) -> None:
        self.ctx, self.smtp = ctx, smtp
        self.sender = SmtpSender(settings_for(smtp))
        ctx.channels["email"] = EmailChannel(ctx, settings_for(smtp), self.sender)
        # Served on https, as in production: the cookie is then Secure.
        ctx.settings = ctx.settings.model_copy(update={"public_url": PUBLIC_URL})
        self._seen = 0

    async def send_out(self) -> list[ReceivedMessage]:
        report = await outbox.deliver_due(self.ctx)
        assert not report.errors, report.errors
        messages = await self.smtp.wait_for_count(self._seen + report.sent)
        new, self._seen = messages[self._seen :], len(messages)
        return new

    async def code_mails(self) -> list[ReceivedMessage]:
        """The code mails among those just sent (the passes' "paid" mails go out too)."""
        return [m for m in await self.send_out() if m.message["Subject"] in CODE_SUBJECTS]

    async def code_for(self, address: str) -> str:
        """The code in the one code mail just sent to ``address``."""
        [mail] = [m for m in await self.code_mails() if address in m.rcpt_tos]
        return code_in(mail)

    async def close(self) -> None:
        await self.sender.close()


def text_of(message: ReceivedMessage) -> str:
    body = message.message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


def code_in(message: ReceivedMessage) -> str:
    found = CODE.search(text_of(message))
    assert found, text_of(message)
    return found.group(1)


class AccountClient:
    """One browser on the holder page: its cookie jar and the CSRF token of its last page."""

    def __init__(self, app: Any, *, client: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        transport = httpx.ASGITransport(app=app, client=client)
        self.http = httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL)
        self.csrf = ""

    async def __aenter__(self) -> AccountClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def get(self, path: str = "/account", **kw: Any) -> httpx.Response:
        answer = await self.http.get(path, **kw)
        self._remember(answer)
        return answer

    async def post(
        self, path: str, data: dict[str, str], *, csrf: str | None = None, **kw: Any
    ) -> httpx.Response:
        if not self.csrf and csrf is None:
            await self.get()
        body = {"csrf": self.csrf if csrf is None else csrf, **data}
        answer = await self.http.post(path, data=body, **kw)
        self._remember(answer)
        return answer

    async def ask(self, email: str, pass_code: str, **kw: Any) -> httpx.Response:
        return await self.post("/account", {"email": email, "pass_code": pass_code}, **kw)

    async def enter(self, code: str, **kw: Any) -> httpx.Response:
        return await self.post("/account/code", {"code": code}, **kw)

    async def sign_in(self, mail: Mail, found: Holder) -> httpx.Response:
        asked = await self.ask(found.email, found.code)
        assert asked.status_code == 303, asked.text
        answer = await self.enter(await mail.code_for(found.email))
        assert answer.status_code == 303 and answer.headers["location"] == "/account"
        return await self.get()

    def _remember(self, answer: httpx.Response) -> None:
        if "html" in answer.headers.get("content-type", ""):
            found = CSRF.search(answer.text)
            if found:
                self.csrf = found.group(1)


async def count(ctx: Context, query: Any) -> int:
    async def work(session: AsyncSession) -> int:
        return int((await session.execute(query)).scalar_one())

    return await ctx.db.read(work)


async def code_mails(ctx: Context) -> int:
    return await count(
        ctx,
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.kind == holder_access.KIND),  # type: ignore[arg-type]
    )


async def code_rows(ctx: Context) -> int:
    return await count(ctx, select(func.count()).select_from(HolderCode))


async def open_sessions(ctx: Context) -> int:
    return await count(
        ctx,
        select(func.count()).select_from(HolderSession).where(HolderSession.ended_at.is_(None)),  # type: ignore[union-attr]
    )


async def end_reasons(ctx: Context) -> list[str]:
    async def work(session: AsyncSession) -> list[str]:
        found = await session.execute(select(HolderSession.end_reason))
        return [str(r) for r in found.scalars()]

    return await ctx.db.read(work)


async def forget_throttles(ctx: Context) -> None:
    """PostgreSQL is emptied between tests by tests/databases.py's TABLES; the counters refer
    to no other table, so a CASCADE does not reach them: they are emptied here."""
    from sqlalchemy import delete

    from booking.tables.holder_access import HolderThrottle

    async def work(session: AsyncSession) -> None:
        await session.execute(delete(HolderThrottle))

    await ctx.db.write(work)
