"""The outbox's Telegram channel: reminders, expiry notices, decisions, payment confirmations,
renewal invitations.

Rendered with ``booking.notices`` in the recipient's language; a payment confirmation is
followed by the tickets as QR images, or for a season pass by the pass's card (its one QR). A
renewal invitation or reminder carries a "Renew" button naming the renewal, which /renew reads
again when pressed (bot/routers/renew.py). Telegram's limits are kept by a small rate limiter
(about one message a second per chat, 30 a second overall); a 429 becomes RetryLater with
Telegram's retry_after, a blocked bot (403) becomes Unreachable, and the core then marks the
chat unreachable and falls back to email. The Bot API down (network errors, 5xx) or refusing
the token (401) is an outage of the channel: logged once and shown in /healthz until a
message goes through; the token never appears in the reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, MessageEntity

from booking.actors import Actor
from booking.context import Context
from booking.notices import render
from booking.outbox import RetryLater, Unreachable
from booking.qr import qr_png
from booking.queries.passes import PassDetail
from booking.services import tickets
from booking.views import OutboxView
from bot import cards, pass_cards, pass_screens, qr
from bot.buttons import Keyboard
from bot.callbacks import WizardCb
from bot.i18n import _, use_locale
from bot.middlewares import KnownCustomers
from bot.renew_keyboards import renew_button

log = logging.getLogger(__name__)
T = TypeVar("T")
TEXT_LIMIT = 4096  # Telegram's limit for a message, in UTF-16 code units
MAX_PARTS = 3  # a longer notice is trimmed: nobody reads a fourth screen of it
ACTOR = Actor.system("telegram channel")
# Notices about a booking that is still waiting for payment carry its buttons (pay, more time).
WITH_BUTTONS = frozenset(
    {
        "booking_held",
        "reminder",
        "booking_overdue",
        "extension_approved",
        "extension_denied",
        "deadline_extended",
    }
)
# Renewal notices (issue 12) offer the renewal they are about; "renewal_released" is plain.
WITH_RENEW_BUTTON = frozenset({"renewal_invited", "renewal_reminder"})
# A code proves an address only if it goes nowhere else: never shown in a chat, even when the
# outbox falls back to Telegram because the address could not be reached. The notice of an
# address replaced is for that old address alone, too.
EMAIL_ONLY = frozenset({"link_code", "email_changed", "holder_code"})
# Told to the chat a customer has just left: its id is in the payload (the customer's own chat
# is already the new one).
TO_OLD_CHAT = frozenset({"telegram_moved"})
# Telegram answers 400 for these when the chat is gone for good: as final as a block.
GONE = ("chat not found", "user is deactivated", "bot was kicked", "have no rights to send")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = TEXT_LIMIT, max_parts: int = MAX_PARTS) -> list[str]:
    """Parts of at most ``limit`` UTF-16 units, cut at a paragraph, a line or a space when
    possible; beyond ``max_parts`` the last part is trimmed with an ellipsis."""
    parts: list[str] = []
    rest = text
    while rest and len(parts) < max_parts:
        if utf16_len(rest) <= limit:
            parts.append(rest)
            rest = ""
            break
        cut = _cut(rest, limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts[-1] = _fit(parts[-1], limit - 2) + " …"
    return parts


def _cut(text: str, limit: int) -> int:
    fits = _fit(text, limit)
    for separator in ("\n\n", "\n", " "):
        at = fits.rfind(separator)
        if at > len(fits) // 2:
            return at + len(separator)
    return len(fits)


def _fit(text: str, limit: int) -> str:
    """The longest prefix of ``text`` within ``limit`` UTF-16 units (emoji count twice)."""
    if utf16_len(text) <= limit:
        return text
    low, high = 0, min(len(text), limit)
    while low < high:
        middle = (low + high + 1) // 2
        if utf16_len(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return text[:low]


class RateLimiter:
    """Spaces sends: at least ``per_chat`` seconds apart in one chat, ``1/overall`` overall.

    A send first waits for its chat's turn, then takes the next overall slot; each slot is
    reserved before sleeping (no await in between), so concurrent deliveries never share one.
    A chat waiting for its turn does not hold back the other chats.
    """

    def __init__(
        self,
        per_chat: float = 1.0,
        overall: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.per_chat, self.gap = per_chat, 1.0 / overall
        self._clock, self._sleep = clock, sleep
        self._next_overall = 0.0
        self._next_in_chat: dict[int, float] = {}

    async def wait(self, chat_id: int) -> None:
        await self._reserve(lambda now: self._chat_slot(chat_id, now))
        sent_at = await self._reserve(self._overall_slot)
        self._next_in_chat[chat_id] = max(self._next_in_chat[chat_id], sent_at + self.per_chat)
        if len(self._next_in_chat) > 10_000:  # forget chats whose turn is long past
            now = self._clock()
            self._next_in_chat = {c: t for c, t in self._next_in_chat.items() if t > now}

    def _chat_slot(self, chat_id: int, now: float) -> float:
        slot = max(now, self._next_in_chat.get(chat_id, 0.0))
        self._next_in_chat[chat_id] = slot + self.per_chat
        return slot

    def _overall_slot(self, now: float) -> float:
        slot = max(now, self._next_overall)
        self._next_overall = slot + self.gap
        return slot

    async def _reserve(self, slot_for: Callable[[float], float]) -> float:
        now = self._clock()
        slot = slot_for(now)
        if slot > now:
            await self._sleep(slot - now)
        return slot


def book_again(payload: dict[str, Any]) -> InlineKeyboardMarkup | None:
    """The event's dates in the /events wizard, when the expiry found one still on sale (the
    wizard checks again when pressed)."""
    event_id = payload.get("book_again")
    if not isinstance(event_id, int):
        return None
    kb = Keyboard()
    kb.button(text=_("Book again"), callback_data=WizardCb(action="event", id=event_id))
    return kb.as_markup()


def renew_again(payload: dict[str, Any]) -> InlineKeyboardMarkup | None:
    """The renewal's offers in /renew (a reference only: owner, window and state are checked
    when pressed)."""
    renewal_id = payload.get("renewal_id")
    return renew_button(renewal_id) if isinstance(renewal_id, int) else None


class TelegramChannel:
    """``booking.outbox.Channel`` for Telegram."""

    def __init__(
        self,
        bot: Bot,
        ctx: Context,
        limiter: RateLimiter | None = None,
        known: KnownCustomers | None = None,
    ) -> None:
        self.bot, self.ctx = bot, ctx
        self.limiter = limiter or RateLimiter()
        self.known = known  # told when a chat turns out to be blocked

    async def deliver(self, message: OutboxView) -> None:
        if message.kind in EMAIL_ONLY:
            log.warning("outbox message %s (%s) is for email only", message.id, message.kind)
            return
        if message.kind in TO_OLD_CHAT:
            await self._tell_old_chat(message)
            return
        chat_id = message.customer.telegram_chat_id
        if chat_id is None:
            raise Unreachable("the customer has no Telegram chat")
        with use_locale(message.locale):
            notice = render(message)
            markup = self._buttons(message)
            await self._send_text(chat_id, notice.subject, notice.text, markup)
            if message.kind == "payment_confirmed" and message.booking is not None:
                await self._send_tickets(chat_id, message)

    async def _tell_old_chat(self, message: OutboxView) -> None:
        """A chat that is gone has nobody left to tell; it must not mark the customer's new
        chat unreachable, so that counts as done."""
        old_chat = message.payload.get("chat_id")
        if not isinstance(old_chat, int):
            return
        if self.known is not None:
            self.known.forget(old_chat)  # that account no longer acts for the customer
        with use_locale(message.locale):
            notice = render(message)
            try:
                await self._send_text(old_chat, notice.subject, notice.text, None)
            except Unreachable as exc:
                log.info("the chat a customer left could not be told: %s", exc)

    def _buttons(self, message: OutboxView) -> InlineKeyboardMarkup | None:
        booking = message.booking
        if message.kind == "booking_expired":
            return book_again(message.payload)
        if message.kind in WITH_RENEW_BUTTON:
            return renew_again(message.payload)
        if booking is None or message.kind not in WITH_BUTTONS or not booking.is_open:
            return None
        return cards.booking_keyboard(booking, now=self.ctx.clock.now(), back=False)

    async def _send_text(
        self, chat_id: int, subject: str, body: str, markup: InlineKeyboardMarkup | None
    ) -> None:
        parts = split_text(f"{subject}\n\n{body}" if body else subject)
        for i, part in enumerate(parts):
            bold = [MessageEntity(type="bold", offset=0, length=utf16_len(subject))]
            entities = bold if i == 0 and part.startswith(subject) else None
            last = i == len(parts) - 1
            keyboard = markup if last else None
            await self._call(
                chat_id,
                partial(
                    self.bot.send_message, chat_id, part, entities=entities, reply_markup=keyboard
                ),
            )

    async def _send_tickets(self, chat_id: int, message: OutboxView) -> None:
        assert message.booking is not None
        booking = message.booking
        season_pass = await pass_cards.card_of_booking(
            self.ctx, booking.customer_id, booking.reference
        )
        if season_pass is not None:  # no ticket per date: the pass's own QR admits
            await self._send_pass_card(chat_id, season_pass)
            return
        found = await tickets.list_tickets(
            self.ctx,
            actor=ACTOR,
            customer_id=message.booking.customer_id,
            reference=message.booking.reference,
        )
        for ticket in found:
            png = qr_png(ticket.url)
            photo = BufferedInputFile(png, filename=f"ticket-{ticket.reference}.png")
            caption = qr.caption(ticket)[:1024]
            await self._call(chat_id, partial(self.bot.send_photo, chat_id, photo, caption=caption))

    async def _send_pass_card(self, chat_id: int, season_pass: PassDetail) -> None:
        """The card /passes shows (bot/pass_cards.py), paced and with the channel's errors: a
        renewed pass keeps its secret, so this is last season's QR under the new season."""
        url = tickets.ticket_url(self.ctx.settings.public_url, season_pass.secret)
        photo = BufferedInputFile(qr_png(url), filename=f"pass-{season_pass.code}.png")
        caption = pass_screens.card_caption(season_pass, self.ctx.settings.timezone)
        send = partial(
            self.bot.send_photo,
            chat_id,
            photo,
            caption=caption,
            reply_markup=pass_screens.to_passes(),
        )
        await self._call(chat_id, send)

    def _gone(self, chat_id: int) -> None:
        """The core marks the chat unreachable; the bot must read it again on the next update
        to mark it reachable when the customer writes (a private chat's id is the user's)."""
        if self.known is not None:
            self.known.forget(chat_id)

    async def _call(self, chat_id: int, send: Callable[[], Awaitable[T]]) -> T:
        """One Bot API call, paced, with Telegram's errors turned into the outbox's."""
        await self.limiter.wait(chat_id)
        try:
            return await send()
        except TelegramRetryAfter as exc:
            raise RetryLater("Telegram rate limit", after=float(exc.retry_after)) from exc
        except TelegramForbiddenError as exc:
            self._gone(chat_id)
            raise Unreachable(f"Telegram: {exc.message}") from exc
        except TelegramBadRequest as exc:
            if any(reason in exc.message.lower() for reason in GONE):
                self._gone(chat_id)
                raise Unreachable(f"Telegram: {exc.message}") from exc
            raise
        except TelegramUnauthorizedError as exc:  # the token was revoked: nothing goes out
            raise RetryLater("Telegram refused the bot token (401)", outage=True) from exc
        except (TelegramNetworkError, TelegramServerError) as exc:
            reason = f"Telegram unavailable: {exc.message}".replace(self.bot.token, "<token>")
            raise RetryLater(reason, outage=True) from exc
