"""Season pass products (issue 12): an organizer creates, edits, and puts on or off sale the
passes of a season. Selling passes builds on these rows (docs/passes.md).

Every command is one transaction that re-reads what it checks: the season, the area (its kind
must fit the seating), and each event (at the area's venue, in the product's season, priced in
the product's currency). An edit carries the version its form was read at and is refused when
the product changed meanwhile; the product row is locked first, so two saves from the same
version cannot both pass the check on PostgreSQL either.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.queries.pass_products import event_ids_of, settings_of
from booking.rules import pass_products as rules
from booking.rules.pass_products import PassProductSettings
from booking.services import catalog
from booking.tables.catalog import Area, Event, Season
from booking.tables.passes import PassProduct, PassProductEvent


def _checked(settings: PassProductSettings) -> PassProductSettings:
    settings = rules.check(settings)
    catalog.check_currency(settings.currency)
    return settings


async def create_product(ctx: Context, *, actor: Actor, settings: PassProductSettings) -> int:
    settings = _checked(settings)

    async def work(session: AsyncSession) -> int:
        await _check_places(session, settings, product_id=None)
        product = PassProduct(**_columns(settings))
        session.add(product)
        await session.flush()
        assert product.id is not None
        _link_events(session, product.id, settings.event_ids)
        return product.id

    return await ctx.db.write(work)


async def update_product(
    ctx: Context,
    *,
    actor: Actor,
    product_id: int,
    expected: str,
    settings: PassProductSettings,
) -> str:
    """Replace the product's settings if nobody saved them since ``expected``; returns the new
    version. Passes already sold keep what they were sold with (next session's rows)."""
    settings = _checked(settings)

    async def work(session: AsyncSession) -> str:
        product = await _locked(session, product_id)
        current = settings_of(product, (await event_ids_of(session, [product_id]))[product_id])
        check_version(current, expected)
        await _check_places(session, settings, product_id=product_id)
        for name, value in _columns(settings).items():
            setattr(product, name, value)
        if current.event_ids != settings.event_ids:
            await session.execute(
                delete(PassProductEvent).where(col(PassProductEvent.product_id) == product_id)
            )
            _link_events(session, product_id, settings.event_ids)
        return rules.fingerprint(settings)

    return await ctx.db.write(work)


def check_version(current: PassProductSettings, expected: str) -> None:
    """The optimistic check: the form was read at ``expected``; another save since then wins,
    and this one is refused rather than silently overwriting it."""
    if rules.fingerprint(current) != expected:
        raise BookingError("changed_meanwhile")


async def set_active(ctx: Context, *, actor: Actor, product_id: int, active: bool) -> None:
    """On or off sale; the rest of the product is left as it is (no version needed)."""

    async def work(session: AsyncSession) -> None:
        product = await _locked(session, product_id)
        product.active = active

    await ctx.db.write(work)


async def _locked(session: AsyncSession, product_id: int) -> PassProduct:
    found = await session.execute(
        select(PassProduct).where(col(PassProduct.id) == product_id).with_for_update()
    )
    product = found.scalar_one_or_none()
    if product is None:
        raise BookingError("unknown_item")
    return product


def _columns(s: PassProductSettings) -> dict[str, Any]:
    return {
        "season_id": s.season_id,
        "name": s.name,
        "price_minor": s.price_minor,
        "currency": s.currency,
        "customer_types": ",".join(s.customer_types),
        "buy_channels": ",".join(s.buy_channels),
        "seating": s.seating,
        "area_id": s.area_id,
        "includes": s.includes,
        "choice_count": s.choice_count,
        "holder_fields": rules.holder_fields_json(s.holder_fields),
        "free_field_label": s.free_field_label,
        "accent_colour": s.accent_colour,
        "note": s.note,
        "active": s.active,
    }


def _link_events(session: AsyncSession, product_id: int, event_ids: Sequence[int]) -> None:
    session.add_all(PassProductEvent(product_id=product_id, event_id=e) for e in event_ids)


async def _check_places(
    session: AsyncSession, settings: PassProductSettings, *, product_id: int | None
) -> None:
    """What the rules cannot see: the season, the area's kind, the events' venue, season and
    currency, and a name not used by another product of the season."""
    if await session.get(Season, settings.season_id) is None:
        raise BookingError("bad_value", field="season_id")
    area = await session.get(Area, settings.area_id)
    if area is None:
        raise BookingError("bad_value", field="area_id")
    if area.kind != rules.AREA_KIND[settings.seating]:
        raise BookingError("pass_area_kind", field="area_id")
    events = list(
        (
            await session.execute(select(Event).where(col(Event.id).in_(settings.event_ids)))
        ).scalars()
    )
    if len(events) != len(settings.event_ids):
        raise BookingError("bad_value", field="event_ids")
    for event in sorted(events, key=lambda e: e.title):
        if event.venue_id != area.venue_id or event.season_id != settings.season_id:
            raise BookingError("pass_event_elsewhere", event=event.title, field="event_ids")
        if event.currency != settings.currency:
            raise BookingError(
                "pass_currency",
                event=event.title,
                currency=event.currency,
                pass_currency=settings.currency,
                field="currency",
            )
    same_name = select(col(PassProduct.id)).where(
        col(PassProduct.season_id) == settings.season_id, col(PassProduct.name) == settings.name
    )
    if product_id is not None:
        same_name = same_name.where(col(PassProduct.id) != product_id)
    if (await session.execute(same_name)).first() is not None:
        raise BookingError("name_taken", field="name")
