"""Who did something, and through which channel. Every mutating service takes one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from booking.i18n import N_, pgettext_for

ActorKind = Literal["customer", "staff", "system"]
Channel = Literal["telegram", "email", "console", "import", "system"]


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    name: str
    channel: Channel
    id: int | None = None

    @classmethod
    def system(cls, name: str = "scheduler") -> Actor:
        return cls(kind="system", name=name, channel="system")

    @classmethod
    def customer(cls, customer_id: int, name: str, channel: Channel) -> Actor:
        return cls(kind="customer", name=name, channel=channel, id=customer_id)

    @classmethod
    def staff(cls, staff_id: int, name: str) -> Actor:
        return cls(kind="staff", name=name, channel="console", id=staff_id)


ACTOR = "actor"  # msgctxt of SYSTEM_NAMES in guichet.po
# What each system actor is called on screen. History rows keep the short code they were
# written with ("release job"); the reader sees these words in their own language.
SYSTEM_NAMES: dict[str, str] = {
    "release job": N_("Automatic release"),
    "scheduler": N_("Automatic task"),
    "auto-approval": N_("Automatic approval"),
    "pay page": N_("Pay page"),
    "email": N_("Email reply"),
    "demo data": N_("Demo data"),
    "telegram payments": N_("Telegram payment"),
    "telegram channel": N_("Telegram bot"),
    "guichet admin create": N_("Command line"),
}
SYSTEM = N_("System")  # a system actor without a name of its own


def actor_label(kind: str, name: str, locale: str) -> str:
    """Who did it, as the reader says it: a person's name as written, a system actor in the
    reader's language."""
    if kind != "system":
        return name
    return pgettext_for(locale, ACTOR, SYSTEM_NAMES.get(name, SYSTEM))
