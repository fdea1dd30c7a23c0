"""A holder's photo stored for a sale that was then refused (issue 12, the box office).

The desk stores the uploaded photo (``pass_photos.store``) just before the sale, because
``passes.sell`` takes a stored photo's id; when the sale is refused (a seat taken meanwhile, a
date sold out) the photo is discarded at once, so a refused sale leaves no photo behind. The
desk's form keeps the photo itself (re-checked on the next submit), not the row.

A photo a pass points at is never deleted: the delete is conditional on no pass naming it, so
a discard that comes late (the sale's commit reached the database but its answer was lost)
removes nothing a pass needs.
"""

from __future__ import annotations

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.tables.passes import Pass, PassPhoto


async def discard(ctx: Context, *, photo_id: int, customer_id: int) -> bool:
    """Delete this customer's photo unless a pass points at it; True when it was deleted.
    Nothing to undo: the photo was stored for a sale that did not happen, and no history
    row names it."""

    async def work(session: AsyncSession) -> bool:
        used = exists(select(col(Pass.id)).where(col(Pass.photo_id) == photo_id))
        gone = await session.execute(
            delete(PassPhoto)
            .where(
                col(PassPhoto.id) == photo_id,
                col(PassPhoto.customer_id) == customer_id,
                ~used,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(gone, "rowcount", 0))

    return await ctx.db.write(work)
