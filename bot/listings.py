"""What is on sale, as the wizard shows it: the catalogue reads, kept for one second.

Browsing is most of a bot's traffic and the same event list, dates and ticket types are read
by every customer. They are kept for a second (and until the core's clock moves), so a busy
evening costs a few reads a second instead of one per screen; customers asking at once while
a read is under way wait for that one read instead of each making their own (at 100 customers
a second, an expired entry otherwise cost dozens of identical reads). The numbers shown may be a
second old; holding is always decided by the core, and a refusal (sold out, no longer
holdable) forgets everything kept, so the customer is then shown what is true now.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime
from typing import Any, TypeVar

from booking.context import Context
from booking.services import catalog
from booking.services.catalog import EventSummary, Offer, PerformanceView

T = TypeVar("T")
KEEP_SECONDS = 1.0


class Listings:
    def __init__(self, ctx: Context, keep: float = KEEP_SECONDS) -> None:
        self.ctx, self.keep = ctx, keep
        self._kept: dict[Hashable, tuple[float, datetime, Any]] = {}
        self._reading: dict[Hashable, asyncio.Future[Any]] = {}
        self._generation = 0  # moved by forget: a read begun before must not be kept

    async def upcoming_events(self, offset: int, limit: int) -> list[EventSummary]:
        return await self._kept_or(
            ("events", offset, limit),
            lambda: catalog.upcoming_events(self.ctx, offset=offset, limit=limit),
        )

    async def performances(self, event_id: int) -> list[PerformanceView]:
        return await self._kept_or(
            ("dates", event_id), lambda: catalog.performances(self.ctx, event_id=event_id)
        )

    async def offers(self, performance_id: int, customer_type: str) -> list[Offer]:
        return await self._kept_or(
            ("offers", performance_id, customer_type),
            lambda: catalog.offers(
                self.ctx,
                performance_id=performance_id,
                channel="telegram",
                customer_type=customer_type,
            ),
        )

    def forget(self) -> None:
        self._kept.clear()
        self._reading.clear()
        self._generation += 1

    async def _kept_or(self, key: Hashable, read: Callable[[], Awaitable[list[T]]]) -> list[T]:
        now, at = time.monotonic(), self.ctx.clock.now()
        found = self._kept.get(key)
        # Fresh: read less than a second ago, and the core's clock (moved by tests and demos)
        # has not moved further than that either.
        if (
            found is not None
            and now - found[0] < self.keep
            and abs((at - found[1]).total_seconds()) < self.keep
        ):
            return list(found[2])
        reading = self._reading.get(key)
        if reading is not None:
            return list(await asyncio.shield(reading))  # one waiter cancelled: not the read
        reading = self._reading[key] = asyncio.ensure_future(read())
        generation = self._generation
        try:
            value = await asyncio.shield(reading)
        finally:
            if self._reading.get(key) is reading:
                del self._reading[key]
        if generation != self._generation:
            return list(value)
        if len(self._kept) > 10_000:
            self._kept.clear()  # simpler to start over than to sweep
        self._kept[key] = (now, at, value)
        return list(value)
