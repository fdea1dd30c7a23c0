"""Button payloads of /renew and of the renewal notices (prefix "rn": short, unique).

A payload names a renewal (and, choosing, one offered product) and an action, never an
authority: every press reads the renewal again and checks that it is this chat's customer's
and still open before showing or doing anything (house rule 11).
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class RenewCb(CallbackData, prefix="rn"):
    """``list``: every renewal of the customer; ``open``: one renewal's offers; ``offer``: the
    summary of ``product`` for ``id``; ``hold`` / ``buy``: renew into ``product``."""

    action: str
    id: int = 0  # the renewal
    product: int = 0  # an offered product of its campaign
