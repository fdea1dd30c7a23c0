"""Button payloads of /passes (prefix "ps": short, unique).

A payload names a pass, a product, a date or a seat and an action, never an authority: every
press reads the pass or product again (the customer's own passes, the products on sale in
Telegram to this customer) before showing or doing anything (house rule 11).
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class PassCb(CallbackData, prefix="ps"):
    """``list``: the customer's passes; ``card`` / ``add``: one pass (``id``); ``code``: add a
    date by typing a pass code; ``date``: add the date ``id`` to the pass being added to.

    Buying: ``shop`` (the products), ``product`` (``id``), ``best`` / ``pick`` (the seat),
    ``section`` / ``row`` (an index), ``seat`` (``id``), ``toggle`` (a date ``id`` of a pass
    with choice), ``picked``, ``skip`` (an optional field), ``back``, ``hold`` / ``buy``
    (``id``: the summary's draft number)."""

    action: str
    id: int = 0
