"""What one update reads from the database (issue 11, "Speed"): the customer and the
conversation once per update, the catalogue once for many customers at once. Counting the
statements keeps repeated reads from growing back."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from booking.context import Context
from bot.listings import Listings
from tests.bot.conftest import Desk, Person, linked_customer
from tests.builders import make_catalog

USERS = range(2001, 2011)


@contextmanager
def selects(ctx: Context) -> Iterator[Counter[str]]:
    """SELECTs sent through SQLAlchemy on both engines, by table (the word after FROM)."""
    seen: Counter[str] = Counter()

    def before(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        words = sql.split()
        if words[:1] == ["SELECT"] and "FROM" in words:
            seen[words[words.index("FROM") + 1].strip('"')] += 1

    engines = {ctx.db.engine.sync_engine, ctx.db.read_engine.sync_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", before)


async def first_button(person: Person) -> None:
    assert person.screen is not None and person.screen.buttons()
    await person.press_data(person.screen.buttons()[0][1])


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_polling_reads_the_customer_and_conversation_once_then_remembers_them(
    sqlite_desk: Desk, language: str
) -> None:
    desk = sqlite_desk
    await make_catalog(desk.ctx)
    await linked_customer(desk.ctx, 1001, language=language)
    ana = desk.person(1001, language=language)
    with selects(desk.ctx) as first:
        await ana.send("/events")
    assert (first["customer"], first["conversation"]) == (1, 1)
    for step in range(2):  # the date, then the ticket type: this process wrote what it reads
        with selects(desk.ctx) as later:
            await first_button(ana)
        assert (later["customer"], later["conversation"]) == (0, 0), step


async def test_webhook_mode_reads_the_customer_and_conversation_once_per_update(
    webhook_desk: Desk,
) -> None:
    desk = webhook_desk
    await make_catalog(desk.ctx)
    await linked_customer(desk.ctx, 1001)
    ana = desk.person(1001)
    await ana.send("/events")
    for step in range(2):
        with selects(desk.ctx) as seen:
            await first_button(ana)
        assert (seen["customer"], seen["conversation"]) == (1, 1), step


async def events_at_once(desk: Desk) -> Counter[str]:
    """Ten customers send /events at the same moment, on a cold catalogue."""
    for user in USERS:
        await linked_customer(desk.ctx, user, email=f"u{user}@example.org")
    updates = [desk.fake.send_text(user, "/events", enqueue=False) for user in USERS]
    with selects(desk.ctx) as seen:
        pushed = [desk.fake.push_update(u) for u in updates]
        await asyncio.gather(*(desk.handled(u["update_id"]) for u in pushed))
    return seen


class _NeverReading(dict[Any, Any]):
    """Listings' reads under way, always empty: every customer makes their own read."""

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


async def test_customers_asking_at_once_share_one_catalogue_read(sqlite_desk: Desk) -> None:
    await make_catalog(sqlite_desk.ctx)
    assert (await events_at_once(sqlite_desk))["event"] == 1


@pytest.mark.parametrize("sharing", [True, False])
async def test_reads_asked_at_once_are_shared_and_pile_up_without_sharing(
    sqlite_desk: Desk, sharing: bool
) -> None:
    """Ten asks at the same moment, made together so that every one meets a cold catalogue:
    one read with the sharing; with it taken away, one read each."""
    await make_catalog(sqlite_desk.ctx)
    listings = Listings(sqlite_desk.ctx)
    if not sharing:
        listings._reading = _NeverReading()
    with selects(sqlite_desk.ctx) as seen:
        found = await asyncio.gather(*(listings.upcoming_events(0, 5) for _ in USERS))
    assert all(events == found[0] and events for events in found)
    assert seen["event"] == (1 if sharing else len(USERS))
