"""currency on the event, tariffs inherit it (issue 10)

Until now each tariff had its own three letters, unchecked, and a booking took the currency of
its first line while adding up all of them ("CHF 65.00" for a CHF and an EUR tariff). From
here the event has one ISO 4217 currency and its tariffs have none of their own.

Existing data, decided so that nothing is sold or asked for at a price read in the wrong
currency:

- the event takes the currency most of its tariffs have (a tie goes to the currency of its
  oldest tariff; codes Babel does not know, such as "XYZ", do not count); an event without a
  usable tariff currency gets CHF, the old default;
- a tariff whose currency differs from the one its event gets is taken off sale (``active`` is
  false): its price was meant in another currency, the organizer re-prices and re-activates it;
- minor units now follow the currency (JPY has no decimals, BHD three) where every amount was
  shown divided by 100: prices of tariffs, and the lines and totals of bookings still ``held``
  (shown but not yet charged), are rescaled so they keep the amount people saw. Paid bookings
  and payments keep the numbers the provider charged and reported.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 13:20:00
"""
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal

from alembic import op
import sqlalchemy as sa
import sqlmodel
import booking.db  # noqa: F401 - kept like every revision (types used by autogenerate)

from booking.rules.formatting import currency_code, minor_digits


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

DEFAULT = "CHF"
OLD_DIGITS = 2  # every amount used to be shown as minor / 100


def upgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'currency', sqlmodel.sql.sqltypes.AutoString(length=3), server_default=DEFAULT,
            nullable=False,
        ))
    bind = op.get_bind()
    tariffs = bind.execute(sa.text(
        "SELECT id, event_id, currency, price_minor FROM tariff ORDER BY id"
    )).all()
    chosen = _event_currencies(tariffs)
    for event_id, currency in chosen.items():
        bind.execute(sa.text("UPDATE event SET currency = :c WHERE id = :e"),
                     {"c": currency, "e": event_id})
    for tariff_id, event_id, currency, price in tariffs:
        event_currency = chosen.get(event_id, DEFAULT)
        if (currency or "").upper() != event_currency:
            bind.execute(sa.text("UPDATE tariff SET active = :off WHERE id = :t"),
                         {"off": False, "t": tariff_id})
        elif minor_digits(event_currency) != OLD_DIGITS:
            bind.execute(sa.text("UPDATE tariff SET price_minor = :p WHERE id = :t"),
                         {"p": _rescale(price, event_currency), "t": tariff_id})
    _rescale_held_bookings(bind)
    with op.batch_alter_table('tariff', schema=None) as batch_op:
        batch_op.drop_column('currency')


def downgrade() -> None:
    with op.batch_alter_table('tariff', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'currency', sqlmodel.sql.sqltypes.AutoString(length=3), server_default=DEFAULT,
            nullable=False,
        ))
    op.execute(
        "UPDATE tariff SET currency = (SELECT event.currency FROM event "
        "WHERE event.id = tariff.event_id)"
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('currency')


def _event_currencies(tariffs: list[sa.Row]) -> dict[int, str]:
    """event id -> the valid currency most of its tariffs have; ties to the oldest tariff's."""
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    first_seen: dict[tuple[int, str], int] = {}
    for tariff_id, event_id, currency, _price in tariffs:
        code = currency_code(currency or "")
        if code is None:
            continue
        counts[event_id][code] += 1
        first_seen.setdefault((event_id, code), tariff_id)
    return {
        event_id: min(found, key=lambda c: (-found[c], first_seen[(event_id, c)]))
        for event_id, found in counts.items()
    }


def _rescale(amount: int, currency: str) -> int:
    """An amount shown as amount / 100, in the currency's own minor unit (half up)."""
    value = Decimal(amount).scaleb(minor_digits(currency) - OLD_DIGITS)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _rescale_held_bookings(bind: sa.Connection) -> None:
    """Held bookings in a currency whose minor unit is not a hundredth: each line rescaled,
    the total the sum of its lines (as a hold computes it)."""
    held = bind.execute(sa.text(
        "SELECT id, currency FROM booking WHERE status = 'held'"
    )).all()
    for booking_id, currency in held:
        code = currency_code(currency or "")
        if code is None or minor_digits(code) == OLD_DIGITS:
            continue
        items = bind.execute(sa.text(
            "SELECT id, price_minor, discount_minor FROM item WHERE booking_id = :b"
        ), {"b": booking_id}).all()
        total = 0
        for item_id, price, discount in items:
            price, discount = _rescale(price, code), _rescale(discount, code)
            total += price - discount
            bind.execute(sa.text(
                "UPDATE item SET price_minor = :p, discount_minor = :d WHERE id = :i"
            ), {"p": price, "d": discount, "i": item_id})
        bind.execute(sa.text("UPDATE booking SET total_minor = :t WHERE id = :b"),
                     {"t": total, "b": booking_id})
