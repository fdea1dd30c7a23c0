"""The holder page's code guards under bursts (issue 13; SQLite and PostgreSQL, the ``ctx``
fixture, each call in its own session on one event loop):

- many requests for one email and pass code at once mail ``CODES_PER_PAIR`` codes: the counter
  is one conditional upsert (``holder_access.within_limit``); its companion checks the count
  in a read first and records afterwards, and more codes go out;
- many guesses of one code at once get ``MAX_ATTEMPTS`` checks between them: the try is
  counted by a compare-and-set before it is checked (``count_try``); its companion checks the
  count in a read first and counts unconditionally, and more guesses are checked;
- two uses of the right code at once open one session (``use_code_once``).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.errors import BookingError
from booking.services import holder_access
from booking.settings_store import secret_key
from booking.tables.holder_access import HolderCode, HolderThrottle
from booking.tables.outbox import OutboxMessage
from tests.console.holder_page import (
    Holder,
    code_mails,
    forget_throttles,
    holder,
    open_sessions,
    season,
)

BURST = 12


@pytest.fixture
async def ana(ctx: Context) -> Holder:
    await forget_throttles(ctx)
    return await holder(ctx, await season(ctx))


async def ask(ctx: Context, ana: Holder, n: int) -> str:
    """One request from its own address: "asked", or the refusal's code."""
    try:
        await holder_access.request_code(
            ctx, email=ana.email, pass_code=ana.code, client=f"10.0.0.{n}"
        )
    except BookingError as error:
        return error.code
    return "asked"


async def test_a_burst_of_requests_for_one_pass_mails_the_limit_of_codes(
    ctx: Context, ana: Holder
) -> None:
    answers = await asyncio.gather(*(ask(ctx, ana, n) for n in range(BURST)))
    assert Counter(answers) == {
        "asked": holder_access.CODES_PER_PAIR,
        "too_many_codes": BURST - holder_access.CODES_PER_PAIR,
    }
    assert await code_mails(ctx) == holder_access.CODES_PER_PAIR


async def test_companion_check_then_record_lets_the_burst_mail_more_codes(
    ctx: Context, ana: Holder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The twin of a count read before the request is written: every request of the burst
    reads "under the limit" before any is recorded."""
    real_request, real_limit = holder_access.request_code, holder_access.within_limit

    async def record_only(
        ctx: Context, session: AsyncSession, key: str, limit: int, now: datetime
    ) -> bool:
        return await real_limit(ctx, session, key, 10**6, now)  # counts, refuses nothing

    async def checked_first(ctx: Context, *, email: str, pass_code: str, client: str) -> str:
        pair = holder_access._keys(email, pass_code, client).pair

        async def hits(session: AsyncSession) -> int:
            row = await session.get(HolderThrottle, pair)
            return row.hits if row is not None else 0

        if await ctx.db.read(hits) >= holder_access.CODES_PER_PAIR:
            raise BookingError("too_many_codes")
        return await real_request(ctx, email=email, pass_code=pass_code, client=client)

    monkeypatch.setattr(holder_access, "within_limit", record_only)
    monkeypatch.setattr(holder_access, "request_code", checked_first)
    answers = await asyncio.gather(*(ask(ctx, ana, n) for n in range(BURST)))
    assert answers.count("asked") > holder_access.CODES_PER_PAIR, answers
    assert await code_mails(ctx) > holder_access.CODES_PER_PAIR


async def challenge_and_code(ctx: Context, ana: Holder) -> tuple[str, str]:
    """A request's challenge, and its code as the outbox row carries it to the mail."""
    challenge = await holder_access.request_code(
        ctx, email=ana.email, pass_code=ana.code, client="10.0.1.1"
    )

    async def work(session: AsyncSession) -> str:
        query = select(col(OutboxMessage.payload)).where(
            col(OutboxMessage.kind) == holder_access.KIND
        )
        return str(json.loads((await session.execute(query)).scalar_one())["code"])

    return challenge, await ctx.db.read(work)


def guesses(code: str) -> list[str]:
    return [f"{n:06d}" for n in range(BURST + 1) if f"{n:06d}" != code][:BURST]


async def guess(ctx: Context, challenge: str, code: str, n: int) -> holder_access.Verified:
    return await holder_access.verify_code(
        ctx, challenge=challenge, code=code, client=f"10.0.2.{n}"
    )


async def attempts(ctx: Context) -> int:
    async def work(session: AsyncSession) -> int:
        return int((await session.execute(select(col(HolderCode.attempts)))).scalar_one())

    return await ctx.db.read(work)


async def test_a_burst_of_guesses_gets_the_limit_of_checks(ctx: Context, ana: Holder) -> None:
    challenge, code = await challenge_and_code(ctx, ana)
    answers = await asyncio.gather(
        *(guess(ctx, challenge, g, n) for n, g in enumerate(guesses(code)))
    )
    refused = Counter(a.refused for a in answers)
    assert refused == {"wrong": holder_access.MAX_ATTEMPTS - 1, "used_up": BURST - 4}
    assert await attempts(ctx) == holder_access.MAX_ATTEMPTS
    assert (await guess(ctx, challenge, code, 99)).refused == "used_up"  # dead, even right


async def test_companion_check_then_count_lets_the_burst_check_more_guesses(
    ctx: Context, ana: Holder, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_verify = holder_access.verify_code
    secret = await secret_key(ctx)

    async def count_always(session: AsyncSession, code_id: int) -> int:
        row = await session.get(HolderCode, code_id)
        assert row is not None
        row.attempts += 1
        await session.flush()
        return 1  # as if it were the first: the read before said there were tries left

    async def checked_first(ctx: Context, **kw: Any) -> holder_access.Verified:
        digest = holder_access._hash(secret, "challenge", kw["challenge"])

        async def tries(session: AsyncSession) -> int:
            query = select(col(HolderCode.attempts)).where(col(HolderCode.challenge_hash) == digest)
            return int((await session.execute(query)).scalar_one())

        if await ctx.db.read(tries) >= holder_access.MAX_ATTEMPTS:
            return holder_access.Verified(refused="used_up")
        return await real_verify(ctx, **kw)

    monkeypatch.setattr(holder_access, "count_try", count_always)
    monkeypatch.setattr(holder_access, "verify_code", checked_first)
    challenge, code = await challenge_and_code(ctx, ana)
    answers = await asyncio.gather(
        *(guess(ctx, challenge, g, n) for n, g in enumerate(guesses(code)))
    )
    checked = sum(a.refused == "wrong" for a in answers)
    assert checked > holder_access.MAX_ATTEMPTS, Counter(a.refused for a in answers)


async def test_two_uses_of_the_right_code_at_once_open_one_session(
    ctx: Context, ana: Holder
) -> None:
    challenge, code = await challenge_and_code(ctx, ana)
    answers = await asyncio.gather(*(guess(ctx, challenge, code, n) for n in range(2)))
    assert sorted(bool(a.token) for a in answers) == [False, True]
    assert [a.refused for a in answers if not a.token] == ["expired"]
    assert await open_sessions(ctx) == 1
