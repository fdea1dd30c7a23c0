"""Notices that could not be delivered: dead ones and those still being retried."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from booking.services import outbox_admin
from console.web.forms import Form, int_or_none
from console.web.pages import Page, guarded


@guarded("outbox")
async def outbox(page: Page) -> Response:
    kind = page.query("show", "dead")
    kind = kind if kind in outbox_admin.KINDS else "dead"
    number = int_or_none(page.query("page")) or 1
    return page.render(
        "console/outbox.html",
        kind=kind,
        found=await outbox_admin.list_notices(page.ctx, kind=kind, page=number),
        counts=await outbox_admin.counts(page.ctx),
        waiting=await outbox_admin.waiting(page.ctx),
        configured=set(page.ctx.channels),
    )


@guarded("outbox")
async def act(page: Page) -> Response:
    form = Form(page.form, page._)
    action = form.choice("action", ("retry", "discard"))
    kind = form.choice("show", outbox_admin.KINDS, default="dead")
    ids = [i for i in (int_or_none(v) for v in page.values("id")) if i is not None]
    back = f"/console/outbox?show={kind or 'dead'}"
    if not form.ok or not ids:
        return page.redirect(back, flash=page._("Select at least one message."), level="error")
    change = outbox_admin.retry if action == "retry" else outbox_admin.discard
    result = await change(page.ctx, actor=page.staff.actor(), ids=ids)
    if result.done:
        text = page._("Queued again: {n}.") if action == "retry" else page._("Discarded: {n}.")
        page.flash(text.format(n=len(result.done)))
    if result.skipped:
        page.flash(
            page._("Not changed (already sent, or being delivered right now): {n}.").format(
                n=len(result.skipped)
            ),
            "warn",
        )
    return page.redirect(back)


routes = [
    Route("/outbox", outbox, methods=["GET"]),
    Route("/outbox", act, methods=["POST"]),
]
