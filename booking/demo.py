"""A realistic demo catalogue (SPEC §10), loaded by ``guichet demo-data``; idempotent."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.context import Context
from booking.rules.pass_products import PassProductSettings, holder_fields
from booking.services import catalog, customers, holds, pass_products
from booking.services.catalog import AreaSpec, SeatSpec
from booking.tables.catalog import Venue

DEMO_VENUE = "Théâtre du Jorat"
TZ = "Europe/Zurich"
ACTOR = Actor.system("demo data")


def balcony() -> tuple[SeatSpec, ...]:
    """Two sections, rows A–F, 12 seats a row, centre seats first within each row."""
    return tuple(
        SeatSpec(section, row, number, block=f"{section} {row}")
        for section in ("Balcon", "Corbeille")
        for row in "ABCDEF"
        for number in range(1, 13)
    )


async def load(ctx: Context) -> bool:
    """Load the demo catalogue; returns False (and changes nothing) when it is already there."""
    if await ctx.db.read(_present):
        return False
    now = ctx.clock.now()
    season = await catalog.create_season(
        ctx,
        actor=ACTOR,
        name=_season_name(now),
        starts_on=date(now.year, 9, 1),
        ends_on=date(now.year + 1, 6, 30),
    )
    areas = await catalog.create_venue(
        ctx,
        actor=ACTOR,
        name=DEMO_VENUE,
        address="Route du Jorat 2, 1083 Mézières",
        areas=[AreaSpec("Parterre", capacity=400), AreaSpec("Balcon", seats=balcony())],
    )
    venue_id = await ctx.db.read(_present)
    assert venue_id
    opera = await _event(
        ctx,
        season,
        venue_id,
        "La Traviata",
        "Verdi, en italien surtitré.",
        days=(21, 23, 28),
        hour=19,
        policy="flexible",
        auto_extend_days=3,
    )
    jazz = await _event(
        ctx,
        season,
        venue_id,
        "Nuit du Jazz",
        "Trois groupes, une nuit.",
        days=(9, 10),
        hour=21,
        policy="firm",
        auto_extend_days=0,
    )
    await _tariffs(ctx, opera, areas, seated=True)
    await _tariffs(ctx, jazz, areas, seated=False)
    await _people_and_bookings(ctx, opera)
    await _season_pass(ctx, season, areas, opera[0])
    return True


async def _present(session: AsyncSession) -> int | None:
    found = await session.execute(select(col(Venue.id)).where(col(Venue.name) == DEMO_VENUE))
    return found.scalar_one_or_none()


def _season_name(now: datetime) -> str:
    return f"{now.year}/{str(now.year + 1)[-2:]}"


async def _event(
    ctx: Context,
    season: int,
    venue: int,
    title: str,
    description: str,
    *,
    days: tuple[int, ...],
    hour: int,
    policy: str,
    auto_extend_days: int,
) -> tuple[int, list[int]]:
    event = await catalog.create_event(
        ctx,
        actor=ACTOR,
        title=title,
        description=description,
        venue_id=venue,
        timezone=TZ,
        season_id=season,
        policy=policy,
        days_after_booking=5,
        days_before_event=2,
        auto_extend_days=auto_extend_days,
        cancellation_allowed=policy == "flexible",
        # Room for a group of 10 and more in one booking (the "Groupe" tariff's minimum).
        max_per_order=20,
        show_remaining_below=20,
    )
    today = ctx.clock.now().astimezone(ZoneInfo(TZ)).date()
    performances = [
        await catalog.add_performance(
            ctx,
            actor=ACTOR,
            event_id=event,
            starts_at=datetime.combine(today + timedelta(days=d), time(hour), ZoneInfo(TZ)),
        )
        for d in days
    ]
    return event, performances


async def _tariffs(
    ctx: Context, event: tuple[int, list[int]], areas: dict[str, int], *, seated: bool
) -> None:
    event_id = event[0]
    area = areas["Balcon"] if seated else areas["Parterre"]
    await catalog.create_tariff(
        ctx,
        actor=ACTOR,
        event_id=event_id,
        area_id=area,
        name="Plein tarif",
        price_minor=6800,
        max_per_booking=10,
    )
    await catalog.create_tariff(
        ctx,
        actor=ACTOR,
        event_id=event_id,
        area_id=area,
        name="Réduit (étudiant, AVS)",
        price_minor=4200,
        customer_types=("individual",),
        max_per_booking=10,
    )
    await catalog.create_tariff(
        ctx,
        actor=ACTOR,
        event_id=event_id,
        area_id=area,
        name="Groupe (dès 10)",
        price_minor=5200,
        customer_types=("group", "b2b"),
        days_after_booking=14,
        min_per_booking=10,
    )
    await catalog.create_tariff(
        ctx,
        actor=ACTOR,
        event_id=event_id,
        area_id=areas["Parterre"],
        name="Dernière minute",
        price_minor=3000,
        hold_channels=(),
        buy_channels=("telegram", "email", "console"),
    )


async def _season_pass(ctx: Context, season: int, areas: dict[str, int], opera: int) -> None:
    """The season pass of SPEC §9: every date of the opera, the same balcony seat each time."""
    await pass_products.create_product(
        ctx,
        actor=ACTOR,
        settings=PassProductSettings(
            season_id=season,
            name="Abonnement saison",
            price_minor=18000,
            currency="CHF",
            customer_types=("individual",),
            buy_channels=("telegram", "email", "console"),
            seating="fixed_seat",
            area_id=areas["Balcon"],
            includes="automatic",
            choice_count=None,
            event_ids=(opera,),
            holder_fields=holder_fields(
                {
                    "first_name": "required",
                    "last_name": "required",
                    "email": "required",
                    "mobile": "optional",
                    "photo": "optional",
                }
            ),
            accent_colour="#7a1f3d",
            note="Portes 30 minutes avant le spectacle.",
        ),
    )


async def _people_and_bookings(ctx: Context, opera: tuple[int, list[int]]) -> None:
    org = await customers.create_organization(ctx, actor=ACTOR, name="Helvetia Voyages SA")
    people = [
        ("Léa Rochat", "lea.rochat@example.org", "fr", None),
        ("Tom Baker", "tom.baker@example.org", "en", None),
        ("Nadia Keller", "nadia.keller@helvetia-voyages.example", "fr", org),
        ("Marc Dubois", "marc.dubois@helvetia-voyages.example", "fr", org),
    ]
    made = []
    for name, email, language, organization in people:
        customer, _ = await customers.find_or_create_customer(
            ctx,
            actor=ACTOR,
            email=email,
            name=name,
            language=language,
            organization_id=organization,
            customer_type="b2b" if organization else "individual",
        )
        made.append(customer)
    offers = await catalog.offers(
        ctx, performance_id=opera[1][0], channel="console", customer_type="b2b"
    )
    group = next(o for o in offers if o.name.startswith("Groupe"))
    staff = Actor(kind="staff", name="Box office (demo)", channel="console")
    for customer, quantity, performance in ((made[2], 10, opera[1][0]), (made[3], 12, opera[1][1])):
        await holds.hold(
            ctx,
            actor=staff,
            customer_id=customer.id,
            performance_id=performance,
            lines=[holds.Line(group.tariff_id, quantity=quantity)],
        )
