"""Inline keyboards, built without aiogram's InlineKeyboardBuilder.

The builder deep-copies every button (pydantic models) each time a keyboard is exported:
about a millisecond of CPU per screen, a sixth of what a wizard step costs (bench/bot.py).
This is the small part of it the bot uses: buttons, rows of given sizes, rows attached below.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

MAX_WIDTH = 8  # Telegram shows at most eight buttons in a row


class Keyboard:
    def __init__(self) -> None:
        self._buttons: list[InlineKeyboardButton] = []
        self._sizes: tuple[int, ...] = (MAX_WIDTH,)
        self._below: list[list[InlineKeyboardButton]] = []

    def button(self, *, text: str, callback_data: CallbackData | str) -> None:
        data = callback_data.pack() if isinstance(callback_data, CallbackData) else callback_data
        self._buttons.append(InlineKeyboardButton(text=text, callback_data=data))

    def adjust(self, *sizes: int) -> None:
        """Rows of these sizes, in order; the last size repeats for the remaining buttons."""
        self._sizes = sizes or (MAX_WIDTH,)

    def attach(self, other: Keyboard) -> None:
        """Put ``other``'s rows below this keyboard's."""
        self._below += other.rows()

    def rows(self) -> list[list[InlineKeyboardButton]]:
        found: list[list[InlineKeyboardButton]] = []
        rest, row = self._buttons, 0
        while rest:
            width = self._sizes[min(row, len(self._sizes) - 1)]
            width = max(1, min(width, MAX_WIDTH))
            found.append(rest[:width])
            rest, row = rest[width:], row + 1
        return found + self._below

    def as_markup(self) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(inline_keyboard=self.rows())
