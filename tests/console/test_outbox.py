"""Messages that could not be delivered: listed, retried, discarded."""

from __future__ import annotations

from booking import outbox
from booking.context import Context
from booking.outbox import RetryLater
from booking.queries import search
from booking.services import outbox_admin
from booking.views import OutboxView
from tests.builders import make_catalog, make_customer, make_held_booking
from tests.console.conftest import ConsoleFactory


class DownChannel:
    """An email server that is down: every delivery asks to be retried later."""

    async def deliver(self, message: OutboxView) -> None:
        raise RetryLater("SMTP 421 service not available")


async def failing_notices(ctx: Context, n: int, *, attempts: int) -> list[str]:
    cat = await make_catalog(ctx)
    made = []
    for i in range(n):
        customer = await make_customer(ctx, email=f"down{i}@example.org", name=f"Down {i}")
        made.append((await make_held_booking(ctx, cat, customer, channel="email")).reference)
    ctx.channels["email"] = DownChannel()
    ctx.settings.outbox_max_attempts = attempts
    await outbox.deliver_due(ctx)
    return made


async def test_dead_messages_are_retried_or_discarded(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    made = await failing_notices(app_ctx, 3, attempts=1)
    console = await console_for("organizer")
    board = await console.get("/console/")
    assert "Messages that could not be delivered" in board.text
    page = await console.get("/console/outbox")
    assert page.text.count("SMTP 421 service not available") == 3
    dead = (await outbox_admin.list_notices(app_ctx, kind="dead")).rows
    ids = [str(n.id) for n in dead]
    retried = await console.post(
        "/console/outbox", {"action": "retry", "show": "dead", "id": ids[:2]}
    )
    assert "Queued again: 2." in (await console.get(retried.headers["location"])).text
    discarded = await console.post(
        "/console/outbox", {"action": "discard", "show": "dead", "id": ids[2:]}
    )
    assert "Discarded: 1." in (await console.get(discarded.headers["location"])).text
    counts = await outbox_admin.counts(app_ctx)
    assert (counts.dead, counts.retrying) == (0, 2)  # pending again, after one failed attempt
    first = await search.booking_detail(app_ctx, reference=made[0])  # the oldest: discarded
    assert first.history[-1].action == "notice_discarded"
    assert first.history[-1].actor_name == "Organizer Test"
    assert [n.status for n in first.notices] == ["discarded"]
    last = await search.booking_detail(app_ctx, reference=made[2])
    assert last.history[-1].action == "notice_retried"
    again = await console.post("/console/outbox", {"action": "discard", "id": ids[2:]})
    text = (await console.get(again.headers["location"])).text
    assert "Not changed (already sent, or being delivered right now): 1." in text
    nothing = await console.post("/console/outbox", {"action": "retry"})
    assert "Select at least one message." in (await console.get(nothing.headers["location"])).text


async def test_messages_still_being_retried_are_listed_apart(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    await failing_notices(app_ctx, 1, attempts=8)
    console = await console_for("admin")
    retrying = await console.get("/console/outbox", show="retrying")
    assert "SMTP 421" in retrying.text and "Retrying (1)" in retrying.text
    desk = await console_for("box_office")
    assert (await desk.get("/console/outbox")).status_code == 403
