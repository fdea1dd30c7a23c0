"""Conversation steps, and two helpers that keep the storage round trips few and safe.

The state is saved before the bot answers, so a customer who sees an answer can rely on the
step being stored: a restart (or another bot process) picks the conversation up there.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey


class Wizard(StatesGroup):
    date = State()  # an event is chosen; data: event
    tariff = State()  # a date is chosen; data: event, performance
    quantity = State()  # a tariff is chosen; data: tariff
    seats = State()  # picking seats one by one; data: seats
    summary = State()  # total and deadline shown with "Hold until …" / "Pay now"; data: draft
    name = State()  # a first booking: asking the name to put on it
    email = State()  # … and the email address
    code = State()  # the code mailed to that address (it proves nothing until then)


class Linking(StatesGroup):
    email = State()
    code = State()  # the code mailed to the typed address, or to a customer being moved here


class Cancelling(StatesGroup):
    note = State()  # "other": typing the reason
    confirm = State()  # "Cancel booking …?" yes / no


class Extending(StatesGroup):
    date = State()  # typing a date
    reason = State()  # typing why (optional)


@runtime_checkable
class StepStorage(Protocol):
    """What bot.storage adds to aiogram's BaseStorage."""

    async def put(self, key: StorageKey, state: str | None, data: dict[str, Any]) -> None: ...

    async def advance(self, key: StorageKey, expected: str, to: str | None) -> bool: ...


def _name(state: State | None) -> str | None:
    return state.state if state is not None else None


async def save(fsm: FSMContext, state: State | None, data: dict[str, Any]) -> None:
    """Set the step and the whole data in one write."""
    storage = fsm.storage
    if isinstance(storage, StepStorage):
        await storage.put(fsm.key, _name(state), data)
        return
    await fsm.set_state(state)
    await fsm.set_data(data)


async def finish(fsm: FSMContext) -> None:
    await save(fsm, None, {})


async def claim(fsm: FSMContext, expected: State, to: State | None) -> bool:
    """Take a step exactly once: of a double click, only the first update gets True."""
    storage = fsm.storage
    if isinstance(storage, StepStorage):
        return await storage.advance(fsm.key, expected.state or "", _name(to))
    if await fsm.get_state() != expected.state:  # a plain storage: one process only
        return False
    await fsm.set_state(to)
    return True


class WizardTyping(StatesGroup):
    """Issue 11, wizard: steps of /events that wait for typed text."""

    quantity = State()  # "Other number…": typing a number of places; data as Wizard.quantity
