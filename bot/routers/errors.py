"""The last word on a failed update: a refusal from the core in the customer's language, or
an apology for our own failure. Nothing is half-done: each service call is one transaction."""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramForbiddenError
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent

from booking.errors import BookingError
from booking.i18n import error_text
from bot.i18n import _, current_locale
from bot.routers import Handlers

router = Handlers("errors")
log = logging.getLogger(__name__)


@router.errors(ExceptionTypeFilter(TelegramForbiddenError))
async def blocked(event: ErrorEvent) -> None:
    log.info("update %s: the user has blocked the bot", event.update.update_id)


@router.errors(ExceptionTypeFilter(BookingError))
async def refused(event: ErrorEvent) -> None:
    assert isinstance(event.exception, BookingError)
    await _tell(event, error_text(event.exception, current_locale()))


@router.errors()
async def failed(event: ErrorEvent) -> None:
    log.exception("update %s failed", event.update.update_id, exc_info=event.exception)
    await _tell(
        event,
        _(
            "Sorry, something went wrong on our side. Please try again in a "
            "moment; /mybookings shows where things stand."
        ),
    )


async def _tell(event: ErrorEvent, text: str) -> None:
    update = event.update
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.pre_checkout_query is not None:
            await update.pre_checkout_query.answer(ok=False, error_message=text)
        elif update.message is not None:
            await update.message.answer(text)
    except Exception:  # the apology itself failing must not hide the first error
        log.exception("could not tell the customer about a failed update")
