"""Buttons of the pay step when the holder has pass credit (issue 12 item 7). Each names the
booking and, for "use", the pass; the service re-checks owner, state and balance on the press
(house rule 11)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class CreditCb(CallbackData, prefix="pc"):
    """``use``: pay booking ``ref`` with the credit of pass ``id``; ``card``: pay what is due
    without credit (the invoice, the pay link or the box office, as without credit)."""

    action: str
    ref: str
    id: int = 0
