"""The small core services the bot needed: seat map, Telegram customer, contact, step claim."""

from __future__ import annotations

import asyncio

import pytest

from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.services import conversations, customers, holds, linking, profiles, seating, steps
from booking.services.holds import Line
from tests.builders import STAFF, as_customer, make_catalog, make_customer


async def test_the_seat_map_shows_every_seat_of_the_tariff_with_what_is_free(ctx: Context) -> None:
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    await holds.hold(
        ctx,
        actor=STAFF,
        customer_id=ana.id,
        performance_id=cat.performance_id,
        lines=[Line(cat.seat_tariff, quantity=2)],
    )

    seats = await seating.seat_map(
        ctx, performance_id=cat.performance_id, tariff_id=cat.seat_tariff
    )

    assert len(seats) == 30 and [(s.row, s.number) for s in seats[:3]] == [
        ("A", 1),
        ("A", 2),
        ("A", 3),
    ]
    assert [s.free for s in seats[:3]] == [False, False, True]
    assert (
        await seating.seat_map(ctx, performance_id=cat.performance_id, tariff_id=cat.ga_tariff)
        == []
    )
    other = await make_catalog(ctx, name="Other Hall")
    with pytest.raises(BookingError, match="unknown_tariff"):
        await seating.seat_map(ctx, performance_id=cat.performance_id, tariff_id=other.seat_tariff)


async def test_a_telegram_customer_is_found_and_made_reachable_again(ctx: Context) -> None:
    assert await profiles.telegram_customer(ctx, telegram_user_id=5, chat_id=5) is None
    made = await linking.register_telegram_customer(
        ctx, telegram_user_id=5, chat_id=5, name="Ada", language="fr"
    )
    found = await profiles.telegram_customer(ctx, telegram_user_id=5, chat_id=5)
    assert found == made

    moved = await profiles.telegram_customer(ctx, telegram_user_id=5, chat_id=6)
    assert moved is not None and moved.telegram_chat_id == 6


async def test_a_bot_customer_sets_a_name_but_never_an_email_without_proof(
    ctx: Context,
) -> None:
    ada = await linking.register_telegram_customer(
        ctx, telegram_user_id=5, chat_id=5, name="Ada", language="en"
    )
    me = as_customer(ada)

    with pytest.raises(BookingError, match="not_owner"):
        await profiles.set_name(
            ctx, actor=Actor.customer(999, "X", "telegram"), customer_id=ada.id, name="X"
        )
    with pytest.raises(BookingError, match="bad_value"):
        await profiles.set_name(ctx, actor=me, customer_id=ada.id, name=" \n ")
    done = await profiles.set_name(ctx, actor=me, customer_id=ada.id, name=" Ada\nL. ")
    assert (done.name, done.email) == ("Ada L.", None)
    # An address comes only with the mailed code: typed, it is found by no lookup by email.
    await linking.send_link_code(
        ctx, email="ada@example.org", telegram_user_id=5, chat_id=5, name="Ada", language="en"
    )
    assert await customers.find_by_email(ctx, email="ada@example.org") is None
    assert (await customers.get_customer(ctx, customer_id=ada.id)).email is None


async def test_a_step_is_claimed_by_exactly_one_of_many_concurrent_callers(ctx: Context) -> None:
    await conversations.put(ctx, key="k", state="Wizard:summary", data={"draft": 1})

    wins = await asyncio.gather(
        *(
            steps.advance(ctx, key="k", expected="Wizard:summary", to="Wizard:working")
            for _ in range(6)
        )
    )

    assert sorted(wins) == [False] * 5 + [True]
    assert await conversations.get(ctx, key="k") == ("Wizard:working", {"draft": 1})
    assert not await steps.advance(ctx, key="missing", expected="x", to=None)


async def test_saving_a_step_inserts_then_overwrites_state_and_data(ctx: Context) -> None:
    await steps.save(ctx, key="k", state="Wizard:date", data={"event": 1})
    assert await conversations.get(ctx, key="k") == ("Wizard:date", {"event": 1})
    await steps.save(ctx, key="k", state=None, data={})
    assert await conversations.get(ctx, key="k") == (None, {})
