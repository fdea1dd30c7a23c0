"""Signed links of renewal invitations (issue 12): ``PUBLIC_URL/renew/<token>``.

The token names one renewal and expires at its campaign's close (``expires``); it is signed
like pay links (``booking.tokens``, the instance's secret key, a purpose of its own, so a pay
token is never a renewal token). It is a reference, never an authority alone: the renewal page
re-reads the renewal, its holder and its window at every request (house rule 11).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from booking import tokens
from booking.context import Context
from booking.settings_store import secret_key

PURPOSE = "renew-link"
PATH = "/renew/"
# An invitation without a closing date links for this long (the campaign may stay open
# until an organizer closes it; the page then still re-checks the window).
OPEN_ENDED = timedelta(days=90)


def expiry(closes_at: datetime | None, now: datetime) -> datetime:
    """When a link sent ``now`` stops working: the window's close, else ``OPEN_ENDED``."""
    return closes_at if closes_at is not None else now + OPEN_ENDED


async def renew_url(ctx: Context, renewal_id: int, *, expires: datetime) -> str:
    token = await renew_token(ctx, renewal_id, expires=expires)
    return f"{ctx.settings.public_url.rstrip('/')}{PATH}{token}"


async def renew_token(ctx: Context, renewal_id: int, *, expires: datetime) -> str:
    """The token alone, for a channel that writes links with its own public address (the
    mail adapter's setting, as its pay links)."""
    return tokens.sign(await secret_key(ctx), PURPOSE, str(renewal_id), expires)


async def read_renew_token(ctx: Context, token: str) -> int | None:
    """The renewal id a genuine, unexpired token names, else None (forged, expired, garbled)."""
    value = tokens.verify(await secret_key(ctx), PURPOSE, token, now=ctx.clock.now())
    if value is None or not value.isdigit():
        return None
    return int(value)
