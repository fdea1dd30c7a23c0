"""What a flash says the customer was told, read from the outbox rows the action really wrote.

A staff action (approve, deny, cancel, extend, take a payment) queues its notice in the same
transaction as the change; whether anyone hears of it depends on the customer's channels and
on the channels this installation has. So the flash never claims "the customer is told": it
says "queued for email", "sent in Telegram", that the channel is not configured, or that the
customer has no channel left and staff must tell them.

Use: ``await told.mark(page)`` before the action, then ``await told.said(page, reference,
text)`` for the flash: ``text`` and what the customer was really told.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from booking.services import outbox_admin
from console.web.labels import N_
from console.web.pages import Page

# (channel, what happened): "sent" once delivered, "queued" while it waits, "off" when it
# waits for a channel this installation does not have, "failed" when it died already.
WORDS: dict[tuple[str, str], str] = {
    ("email", "sent"): N_("sent by email"),
    ("email", "queued"): N_("queued for email"),
    ("email", "off"): N_("queued for email (email is not configured)"),
    ("telegram", "sent"): N_("sent in Telegram"),
    ("telegram", "queued"): N_("queued for Telegram"),
    ("telegram", "off"): N_("queued for Telegram (Telegram is not configured)"),
    ("email", "failed"): N_("could not be sent by email"),
    ("telegram", "failed"): N_("could not be sent in Telegram"),
}
NOTICE = N_("Notice to the customer: {how}.")
NOBODY = N_("The customer has no email or Telegram: tell them yourself.")
NOTHING_NEW = N_("No new notice for the customer: the same one is already queued.")


MARK = "outbox_mark"


async def mark(page: Page) -> None:
    """Note where the outbox stands before the action (ids only grow)."""
    page.extra[MARK] = await outbox_admin.last_notice(page.ctx)


async def said(page: Page, reference: str, text: str) -> str:
    """``text`` followed by what the action since ``mark`` queued for booking ``reference``."""
    since = page.extra.get(MARK, 0)
    found = await outbox_admin.notices_since(page.ctx, reference=reference, after=since)
    return f"{text} {sentence(found, page._, configured=page.ctx.channels.keys())}"


def sentence(
    found: outbox_admin.Told, gettext: Callable[[str], str], *, configured: Collection[str]
) -> str:
    if not found.channels:
        return gettext(NOTHING_NEW if found.reachable else NOBODY)
    parts = []
    for channel, status in found.channels:
        state = _state(channel, status, configured)
        words = WORDS.get((channel, state))
        part = gettext(words) if words else f"{channel}: {status}"
        if part not in parts:  # a fallback row on the same channel says nothing new
            parts.append(part)
    return gettext(NOTICE).format(how="; ".join(parts))


def _state(channel: str, status: str, configured: Collection[str]) -> str:
    if status == "pending":
        return "queued" if channel in configured else "off"
    return "sent" if status == "sent" else "failed"
