"""Console fixes on events (issue 10, point 6): a stale form shows what is saved beside what was
typed and saves the second time; a date or tariff is reached only through its own event's URL;
the events list shows sold / held / left per date; a tariff line says its channels and rule."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlalchemy import event as sa_event

from booking.context import Context
from booking.queries import events as event_figures
from booking.services import cancellations, catalog, catalog_admin, payments, staff_admin
from tests.builders import STAFF, Catalog, make_catalog, make_customer, make_held_booking
from tests.console.conftest import Console, ConsoleFactory, both

RULES = {
    "title": "Renamed",
    "timezone": "Europe/Zurich",
    "policy": "firm",
    "days_after_booking": "7",
    "reminder_hours": "72, 24",
    "extension_days": "7",
    "auto_extend_days": "0",
    "max_per_order": "10",
}


def hidden(text: str, name: str, after: str) -> str:
    """A hidden field's value in the first form after ``after``."""
    part = text.split(after, 1)[1]
    return re.search(rf'name="{name}" value="([^"]*)"', part).group(1)  # type: ignore[union-attr]


def words(text: str) -> str:
    """The page as a reader sees it: tags out, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def row(text: str, row_id: str) -> list[str]:
    """The cells of the table row ``id="row_id"``, as words."""
    found = re.search(rf'<tr id="{row_id}"[^>]*>(.*?)</tr>', text, re.S)
    assert found, f"no row {row_id}"
    return [words(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)]


async def two_events(ctx: Context) -> tuple[Catalog, Catalog]:
    return await make_catalog(ctx, name="Salle A"), await make_catalog(ctx, name="Salle B")


# -- the stale form ---------------------------------------------------------------------------


async def test_a_stale_event_form_shows_both_values_keeps_the_typing_and_saves_next_time(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    rules = f'action="/console/events/{cat.event_id}#rules"'
    first, second = await console_for("organizer"), await console_for("admin")
    old = hidden((await first.get(f"/console/events/{cat.event_id}")).text, "version", rules)
    await second.get(f"/console/events/{cat.event_id}")
    saved = await second.post(
        f"/console/events/{cat.event_id}",
        {**RULES, "version": old, "title": "By Admin", "policy": "flexible"},
    )
    assert saved.status_code == 303

    late = await first.post(f"/console/events/{cat.event_id}", {**RULES, "version": old})
    assert late.status_code == 400 and "Someone changed this meanwhile" in late.text
    text = words(late.text)
    assert "Saved now: By Admin · you typed: Renamed" in text
    assert "Saved now: Flexible · you typed: Firm" in text
    assert "Saved now: 7 · you typed" not in text  # an unchanged field says nothing
    assert 'value="Renamed"' in late.text  # the typing stays in the input
    current = (await catalog_admin.event_detail(app_ctx, event_id=cat.event_id)).event.version
    assert hidden(late.text, "version", rules) == current != old

    again = await first.post(
        f"/console/events/{cat.event_id}",
        {**RULES, "version": hidden(late.text, "version", rules)},
    )
    assert again.status_code == 303
    detail = await catalog_admin.event_detail(app_ctx, event_id=cat.event_id)
    assert (detail.event.settings.title, detail.event.settings.policy) == ("Renamed", "firm")


async def test_a_stale_tariff_form_shows_both_values_and_saves_next_time(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    console = await console_for("organizer")
    detail = await catalog_admin.event_detail(app_ctx, event_id=cat.event_id)
    tariff = next(t for t in detail.tariffs if t.id == cat.ga_tariff)
    await console.get(f"/console/events/{cat.event_id}")
    fields: dict[str, Any] = {
        "name": "Standing",
        "area_id": str(cat.ga_area),
        "price": "45.00",
        "currency": "CHF",
        "hold_channels": ["telegram", "email", "console"],
        "buy_channels": ["telegram", "email", "console"],
        "customer_types": ["individual", "group", "b2b"],
        "active": "on",
    }
    path = f"/console/events/{cat.event_id}/tariffs/{tariff.id}"
    meanwhile = await console.post(path, {**fields, "version": tariff.version, "price": "50"})
    assert meanwhile.status_code == 303
    late = await console.post(path, {**fields, "version": tariff.version, "price": "39,5"})
    assert late.status_code == 400
    assert "Saved now: 50.00 · you typed: 39,5" in words(late.text)
    assert 'value="39,5"' in late.text
    form_of = f'action="/console/events/{cat.event_id}/tariffs/{tariff.id}#tariffs"'
    again = await console.post(
        path, {**fields, "version": hidden(late.text, "version", form_of), "price": "39,5"}
    )
    assert again.status_code == 303
    detail = await catalog_admin.event_detail(app_ctx, event_id=cat.event_id)
    assert next(t for t in detail.tariffs if t.id == tariff.id).settings.price_minor == 3950


async def test_a_stale_staff_form_shows_both_values_and_saves_next_time(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    admin = await console_for("admin")
    target = next(a for a in await staff_admin.list_accounts(app_ctx) if a.role == "box_office")
    await admin.get(f"/console/staff/{target.id}")
    form = {"version": target.version, "role": "box_office", "language": "en", "active": "on"}
    assert (
        await admin.post(f"/console/staff/{target.id}", {**form, "name": "Colleague"})
    ).status_code == 303
    late = await admin.post(
        f"/console/staff/{target.id}", {**form, "name": "Mine", "role": "organizer"}
    )
    assert late.status_code == 400
    text = words(late.text)
    assert "Saved now: Colleague · you typed: Mine" in text
    assert "Saved now: Box office · you typed: Organizer" in text
    assert 'value="Mine"' in late.text
    version = hidden(late.text, "version", f'action="/console/staff/{target.id}"')
    again = await admin.post(
        f"/console/staff/{target.id}",
        {**form, "version": version, "name": "Mine", "role": "organizer"},
    )
    assert again.status_code == 303
    account = await staff_admin.get_account(app_ctx, staff_id=target.id)
    assert account is not None and (account.name, account.role) == ("Mine", "organizer")


async def test_a_stale_booking_action_keeps_the_typed_note_and_goes_through_next_time(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    booking = await make_held_booking(app_ctx, cat, await make_customer(app_ctx))
    first, second = await console_for("organizer"), await console_for("admin")
    path = f"/console/bookings/{booking.reference}"
    old = hidden((await first.get(path)).text, "version", f'action="{path}/cancel"')
    await second.get(path)
    extended = await second.post(f"{path}/extend", {"mode": "days", "days": "3", "version": old})
    assert extended.status_code == 303
    cancel = {"reason": "other", "note": "Phoned to say no"}
    late = await first.post(f"{path}/cancel", {**cancel, "version": old})
    assert late.status_code == 409 and 'value="Phoned to say no"' in late.text
    version = hidden(late.text, "version", f'action="{path}/cancel"')
    assert version != old
    assert (await first.post(f"{path}/cancel", {**cancel, "version": version})).status_code == 303


# -- a child reached only through its own event -----------------------------------------------


async def post_other_date(console: Console, mine: Catalog, theirs: Catalog) -> Any:
    await console.get(f"/console/events/{mine.event_id}")
    return await console.post(
        f"/console/events/{mine.event_id}/performance",
        {"performance_id": str(theirs.performance_id), "policy": "flexible"},  # and off sale
    )


async def their_date(ctx: Context, theirs: Catalog) -> tuple[str | None, bool]:
    detail = await catalog_admin.event_detail(ctx, event_id=theirs.event_id)
    date = next(p for p in detail.performances if p.id == theirs.performance_id)
    return date.policy, date.on_sale


async def test_another_events_date_is_not_found_and_stays_as_it_was(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    mine, theirs = await two_events(app_ctx)
    refused = await post_other_date(await console_for("organizer"), mine, theirs)
    assert refused.status_code == 404 and "This no longer exists." in refused.text
    assert await their_date(app_ctx, theirs) == (None, True)


async def test_without_the_event_check_another_events_date_is_changed(
    app_ctx: Context, console_for: ConsoleFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog_admin, "belongs_to_event", lambda owner, event_id: True)
    mine, theirs = await two_events(app_ctx)
    changed = await post_other_date(await console_for("organizer"), mine, theirs)
    assert changed.status_code == 303
    assert await their_date(app_ctx, theirs) == ("flexible", False)


async def post_other_tariff(ctx: Context, console: Console, mine: Catalog, theirs: Catalog) -> Any:
    detail = await catalog_admin.event_detail(ctx, event_id=theirs.event_id)
    tariff = next(t for t in detail.tariffs if t.id == theirs.ga_tariff)
    await console.get(f"/console/events/{mine.event_id}")
    return await console.post(
        f"/console/events/{mine.event_id}/tariffs/{tariff.id}",
        {
            "version": tariff.version,
            "name": "Free for me",
            "area_id": str(theirs.ga_area),
            "price": "0",
            "currency": "CHF",
            "hold_channels": "telegram",
            "buy_channels": "telegram",
            "customer_types": "individual",
            "active": "on",
        },
    )


async def their_tariff_price(ctx: Context, theirs: Catalog) -> int:
    detail = await catalog_admin.event_detail(ctx, event_id=theirs.event_id)
    return next(t for t in detail.tariffs if t.id == theirs.ga_tariff).settings.price_minor


async def test_another_events_tariff_is_not_found_and_stays_as_it_was(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    mine, theirs = await two_events(app_ctx)
    console = await console_for("organizer")
    refused = await post_other_tariff(app_ctx, console, mine, theirs)
    assert refused.status_code == 404
    assert await their_tariff_price(app_ctx, theirs) == 4500


async def test_without_the_event_check_another_events_tariff_is_changed(
    app_ctx: Context, console_for: ConsoleFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog_admin, "belongs_to_event", lambda owner, event_id: True)
    mine, theirs = await two_events(app_ctx)
    changed = await post_other_tariff(app_ctx, await console_for("organizer"), mine, theirs)
    assert changed.status_code == 303
    assert await their_tariff_price(app_ctx, theirs) == 0


async def test_the_services_refuse_a_child_of_another_event(app_ctx: Context) -> None:
    mine, theirs = await two_events(app_ctx)
    with pytest.raises(Exception, match="unknown_item"):
        await catalog_admin.update_performance(
            app_ctx,
            actor=STAFF,
            event_id=mine.event_id,
            performance_id=theirs.performance_id,
            policy=None,
            on_sale=False,
        )
    assert await their_date(app_ctx, theirs) == (None, True)


# -- figures and words ------------------------------------------------------------------------


async def a_catalogue_with_held_and_paid_bookings(ctx: Context) -> Catalog:
    """3 places held and 4 paid on the first date (130 places); 2 held, then cancelled."""
    cat = await make_catalog(ctx)
    await make_held_booking(ctx, cat, await make_customer(ctx, email="h@example.org"), quantity=3)
    gone = await make_held_booking(
        ctx, cat, await make_customer(ctx, email="c@example.org"), quantity=2
    )
    await cancellations.cancel(ctx, actor=STAFF, reference=gone.reference, reason="mistake")
    paid = await make_held_booking(
        ctx, cat, await make_customer(ctx, email="p@example.org"), quantity=4
    )
    await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=paid.reference, method="cash"
    )
    return cat


async def test_the_events_list_shows_sold_held_and_left_per_date(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await a_catalogue_with_held_and_paid_bookings(app_ctx)
    later = await catalog.add_performance(
        app_ctx, actor=STAFF, event_id=cat.event_id, starts_at=cat.starts_at.replace(year=2027)
    )
    console = await console_for("organizer")
    page = await console.get("/console/events")
    assert page.status_code == 200
    header = words(page.text)
    assert "Sold" in header and "On hold" in header and "Left" in header
    assert row(page.text, f"date-{cat.performance_id}")[1:] == ["4", "3", "123 / 130"]
    assert row(page.text, f"date-{later}")[1:] == ["0", "0", "130 / 130"]
    detail = await console.get(f"/console/events/{cat.event_id}")
    assert row(detail.text, f"date-{cat.performance_id}")[1:4] == ["4", "3", "123 / 130"]


@both
async def test_the_figures_are_one_query_whatever_the_number_of_events(app_ctx: Context) -> None:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):  # not SQLite's BEGIN
            statements.append(statement)

    engine = app_ctx.db.read_engine.sync_engine
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        await a_catalogue_with_held_and_paid_bookings(app_ctx)
        statements.clear()
        one = await event_figures.date_figures(app_ctx)
        with_one = len(statements)
        for name in ("Salle 2", "Salle 3", "Salle 4"):
            await make_catalog(app_ctx, name=name)
        statements.clear()
        four = await event_figures.date_figures(app_ctx)
        assert len(statements) == with_one == 1
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    assert len(one) == 1 and len(four) == 4
    first = next(iter(one.values()))[0]
    assert (first.sold, first.held, first.left, first.capacity) == (4, 3, 123, 130)


async def test_a_tariff_line_shows_its_channels_and_deadline_rule(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx, days_after_booking=7)
    own = await catalog.create_tariff(
        app_ctx,
        actor=STAFF,
        event_id=cat.event_id,
        area_id=cat.ga_area,
        name="Student",
        price_minor=1500,
        hold_channels=("telegram", "console"),
        buy_channels=("telegram", "email"),
        days_after_booking=7,
        days_before_event=2,
    )
    same = await catalog.create_tariff(
        app_ctx,
        actor=STAFF,
        event_id=cat.event_id,
        area_id=cat.ga_area,
        name="Desk",
        price_minor=1000,
        hold_channels=("email", "console"),
        buy_channels=("email", "console"),
        days_before_event=1,
    )
    console = await console_for("organizer")
    page = words((await console.get(f"/console/events/{cat.event_id}")).text)
    assert (
        "held through Telegram, Console · bought through Telegram, Email"
        " · pay within 7 days, at the latest 2 days before the date" in page
    )
    assert "Email, Console · pay at the latest 1 day before the date" in page
    assert "pay within 7 days (the event's rule)" in page  # Standing sets no rule of its own
    await console.post("/console/language", {"language": "fr"})
    french = words((await console.get(f"/console/events/{cat.event_id}")).text)
    assert "payer sous 7 jours, au plus tard 2 jours avant la date" in french
    assert "E-mail, Console · payer au plus tard 1 jour avant la date" in french
    assert own and same
