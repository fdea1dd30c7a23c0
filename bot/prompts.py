"""The two buttons under every prompt that waits for typed text (a name, an email, a code, a
date, a reason): "« Back" to the step before, and "Cancel" to leave the conversation.

A typed prompt without them is a dead end for a customer who changed their mind: /commands
work, but nobody guesses that. ``back`` is the callback of the step before; without one, only
Cancel is shown. Cancel is handled in ``bot.routers.prompts``.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup

from bot.buttons import Keyboard
from bot.callbacks import MenuCb
from bot.i18n import _

QUIT = MenuCb(action="quit")


def controls(
    back: CallbackData | None = None, *, extra: Keyboard | None = None
) -> InlineKeyboardMarkup:
    """Back (when there is a step before) and Cancel, in one row, below ``extra``'s buttons."""
    kb = extra or Keyboard()
    row = Keyboard()
    if back is not None:
        row.button(text=_("« Back"), callback_data=back)
    row.button(text=_("Cancel"), callback_data=QUIT)
    kb.attach(row)
    return kb.as_markup()
