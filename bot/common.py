"""Small helpers every router uses: who acts, answering in place, and the kind fallbacks."""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User

from booking.actors import Actor
from booking.context import Context
from booking.services import linking
from booking.views import CustomerView
from bot.i18n import current_locale
from bot.middlewares import KnownCustomers

log = logging.getLogger(__name__)


def actor(customer: CustomerView) -> Actor:
    return Actor.customer(customer.id, customer.name, "telegram")


def full_name(user: User) -> str:
    return " ".join(part for part in (user.first_name, user.last_name) if part) or "Telegram"


def changed(known: KnownCustomers | None, user: User) -> None:
    """Call after changing the customer of ``user`` (see KnownCustomers)."""
    if known is not None:
        known.forget(user.id)


def forget_moved(known: KnownCustomers | None, linked: linking.Linked) -> None:
    """The Telegram account a customer just left must not act for it from the cache."""
    if known is not None and linked.moved_from is not None:
        known.forget(linked.moved_from)


async def ensure_customer(
    ctx: Context,
    customer: CustomerView | None,
    user: User,
    chat_id: int,
    known: KnownCustomers | None,
) -> CustomerView:
    """The customer of this chat, created (without an email yet) on the first action that
    needs one: holding places, choosing a language."""
    if customer is not None:
        return customer
    made = await linking.register_telegram_customer(
        ctx,
        telegram_user_id=user.id,
        chat_id=chat_id,
        name=full_name(user),
        language=current_locale(),
    )
    changed(known, user)
    return made


async def show(
    target: Message | CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Answer a message with a new one, or a button by editing the message it belongs to
    (a new message when that one is too old to edit or no longer accessible)."""
    if isinstance(target, Message):
        return await target.answer(text, reply_markup=markup)
    message = target.message
    if isinstance(message, Message):
        try:
            edited = await message.edit_text(text, reply_markup=markup)
        except TelegramBadRequest as exc:
            if "not modified" in exc.message:
                return message
            log.info("could not edit message %s (%s); sending a new one", message.message_id, exc)
        else:
            return edited if isinstance(edited, Message) else message
    if target.bot is None:
        return None
    return await target.bot.send_message(target.from_user.id, text, reply_markup=markup)


def chat_id_of(target: Message | CallbackQuery) -> int:
    if isinstance(target, Message):
        return target.chat.id
    return target.from_user.id  # private chats only: the chat is the user
