"""A catalogue for the /events wizard tests (issue 11, wizard part): an event with the display
settings of issue 11, dates that can be sold out, a group tariff with a minimum, seats."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from booking.context import Context
from booking.services import catalog, holds
from booking.services.catalog import AreaSpec, SeatSpec
from bot.formatting import short
from bot.i18n import use_locale
from tests.bot.conftest import Reply
from tests.builders import STAFF, make_customer, seat_rows
from tests.support.english import english_in

TITLE = "Nuit Test"
VENUE = "Salle Test"
ADDRESS = "Rue du Lac 1, 1200 Genève"
DESCRIPTION = "Un concert de piano à quatre mains."
PICTURE = "https://pictures.example.org/nuit.jpg"
# What the tests put in the database: names a French reader may see in English.
DATA = (TITLE, VENUE, ADDRESS, DESCRIPTION, "Standing", "Seated", "Groupe", "Floor", "Stalls")
OTHER = ("Autre Soir", "Salle Deux")  # title and venue of a second event


@dataclass(frozen=True)
class Show:
    event_id: int
    dates: list[int]
    starts: list[datetime]
    standing: int
    seated: int
    group: int | None


async def make_show(
    ctx: Context,
    *,
    title: str = TITLE,
    venue: str = VENUE,
    dates: int = 1,
    capacity: int = 50,
    seats: tuple[SeatSpec, ...] | None = (),
    show_remaining_below: int = 0,
    picture_url: str = "",
    description: str = DESCRIPTION,
    max_per_order: int = 20,
    group_min: int = 0,
    seated_max: int | None = None,
) -> Show:
    """``seats=()`` gives the default Stalls (rows A-C of 10), ``None`` no seated area."""
    areas = [AreaSpec("Floor", capacity=capacity)]
    if seats is not None:
        areas.append(AreaSpec("Stalls", seats=seats or seat_rows()))
    area_ids = await catalog.create_venue(
        ctx, actor=STAFF, name=venue, areas=areas, address=ADDRESS
    )
    venue_id = await _venue_id(ctx, venue)
    event_id = await catalog.create_event(
        ctx,
        actor=STAFF,
        title=title,
        venue_id=venue_id,
        timezone="Europe/Zurich",
        description=description,
        max_per_order=max_per_order,
        show_remaining_below=show_remaining_below,
        picture_url=picture_url,
    )
    starts = [ctx.clock.now() + timedelta(days=30 + i) for i in range(dates)]
    ids = [
        await catalog.add_performance(ctx, actor=STAFF, event_id=event_id, starts_at=at)
        for at in starts
    ]
    standing = await catalog.create_tariff(
        ctx, actor=STAFF, event_id=event_id, area_id=area_ids["Floor"], name="Standing",
        price_minor=4500,
    )  # fmt: skip
    seated = 0
    if seats is not None:
        seated = await catalog.create_tariff(
            ctx, actor=STAFF, event_id=event_id, area_id=area_ids["Stalls"], name="Seated",
            price_minor=6500, max_per_booking=seated_max,
        )  # fmt: skip
    group = None
    if group_min:
        group = await catalog.create_tariff(
            ctx, actor=STAFF, event_id=event_id, area_id=area_ids["Floor"], name="Groupe",
            price_minor=3000, min_per_booking=group_min,
        )  # fmt: skip
    return Show(event_id, ids, starts, standing, seated, group)


async def _venue_id(ctx: Context, name: str) -> int:
    from sqlalchemy import select

    from booking.tables.catalog import Venue

    async def work(session):  # type: ignore[no-untyped-def]
        return (await session.execute(select(Venue.id).where(Venue.name == name))).scalar_one()

    return int(await ctx.db.read(work))


async def take(ctx: Context, performance_id: int, tariff_id: int, places: int) -> None:
    """Another customer (the box office's) holds ``places`` of the date, ten at a time."""
    bob = await make_customer(ctx, email="bob@example.org", name="Bob")
    while places > 0:
        chunk = min(places, 10)
        await holds.hold(
            ctx,
            actor=STAFF,
            customer_id=bob.id,
            performance_id=performance_id,
            lines=[holds.Line(tariff_id, quantity=chunk)],
        )
        places -= chunk


def label(at: datetime, locale: str = "en") -> str:
    """A date as its button shows it, 'Wed 23 Dec, 10:00'."""
    with use_locale(locale):
        return short(at, "Europe/Zurich")


class Seen:
    """Everything a customer read in a flow (messages, captions, alerts, buttons), to scan a
    French flow for English."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, reply: Reply) -> Reply:
        self.parts += reply.texts + reply.alerts
        for call in reply.calls:
            self.parts += [text for text, _ in call.buttons()]
        return reply

    def english(self, data: Iterable[str] = ()) -> list[str]:
        return english_in("\n".join(self.parts), [*DATA, *OTHER, *data])
