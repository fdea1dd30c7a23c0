"""Who did something, and through which channel. Every mutating service takes one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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
