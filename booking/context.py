"""The context every service takes first: database, clock, settings and delivery channels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from booking.clock import Clock, SystemClock
from booking.db import Database
from booking.settings import CoreSettings

if TYPE_CHECKING:
    from booking.outbox import Channel


@dataclass
class Context:
    settings: CoreSettings
    db: Database
    clock: Clock
    # Filled by the composition root with the adapters of the roles it runs.
    channels: dict[str, Channel] = field(default_factory=dict)

    @classmethod
    def create(cls, settings: CoreSettings, *, clock: Clock | None = None) -> Context:
        return cls(
            settings=settings, db=Database(settings.database_url), clock=clock or SystemClock()
        )

    async def close(self) -> None:
        await self.db.dispose()
