"""``/renew/<token>`` (issue 12): the renewal page a pass holder reaches from the invitation.

Public, like the pay page: the signed link (``booking.renew_links``, expiring when the window
closes) is the authority, and it names one renewal only, so there is no console login. The
page shows the holder's pass (name, code), the offers with their price and whether the seat is
kept ("your seat kept") or will be the best available, and when the window closes. Choosing an
offer (POST) renews through ``renewals.renew`` as the holder (the service re-checks holder,
window and state in the transaction: the link is a reference, never an authority alone), then
redirects to the pay page of the new booking; paying at once is that pay page.

The pay page's protections, copied: a forged or expired link gets a plain 404 page saying
nothing else (no renewal, name or pass is named); every answer is ``no-store``; the token is in
the path, so the page sends no Referer to another site (``same-origin``) and is never framed.
On top, a POST whose browser-sent Origin is another site is refused (a cross-site form cannot
renew for someone who merely opened a page), and a double submit renews once: the second POST
finds the renewal done and shows its booking.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from booking import renew_links
from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.i18n import error_text
from booking.queries import renewals as renewal_queries
from booking.queries.renewals import RenewalChoice
from booking.rules.formatting import money, pick_locale, when
from booking.services import bookings, checkouts, renewals
from booking.views import BookingView
from console.web.render import customer_environment

HEADERS = {
    "Cache-Control": "no-store",
    # The token is in the path: never sent to another site. Not "no-referrer": a browser then
    # posts forms with "Origin: null", and the Origin is what tells our own form apart.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
FORM_MAX = 4096  # bytes of a POST body: one product id


def routes(ctx: Context) -> list[Route]:
    page = _RenewPage(ctx)
    return [
        Route("/renew/{token}", page.show, methods=["GET"]),
        Route("/renew/{token}", page.choose, methods=["POST"]),
    ]


class _RenewPage:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def show(self, request: Request) -> Response:
        found = await self._renewal(request)
        if isinstance(found, Response):
            return found
        choice, locale = found
        return await self._page(request, choice, locale)

    async def choose(self, request: Request) -> Response:
        found = await self._renewal(request)
        if isinstance(found, Response):
            return found
        choice, locale = found
        if not same_origin(request, self.ctx.settings.public_url):
            return _message(locale, "cross_site", status=403)
        product_id = await _chosen(request)
        if product_id is None or product_id not in {o.product_id for o in choice.options}:
            error = BookingError("renewal_offer_unknown", field="product")
            return await self._page(request, choice, locale, error=error, status=400)
        actor = Actor.customer(choice.customer_id, choice.holder_name, "email")
        try:
            sold = await renewals.renew(
                self.ctx, actor=actor, renewal_id=choice.renewal_id, product_id=product_id
            )
        except BookingError as error:
            # Re-read: a double submit or another channel may have renewed meanwhile.
            again = await renewal_queries.renewal_choice(self.ctx, renewal_id=choice.renewal_id)
            return await self._page(request, again or choice, locale, error=error, status=409)
        booking = await bookings.get_booking(self.ctx, actor=actor, reference=sold.reference)
        return await self._to_pay(booking, locale)

    async def _renewal(self, request: Request) -> tuple[RenewalChoice, str] | Response:
        """The renewal a genuine, unexpired link names; else the plain 404 page."""
        renewal_id = await renew_links.read_renew_token(self.ctx, request.path_params["token"])
        choice = None
        if renewal_id is not None:
            choice = await renewal_queries.renewal_choice(self.ctx, renewal_id=renewal_id)
        if choice is None:
            return _message(_locale(request, None), "invalid", status=404)
        return choice, _locale(request, choice.language)

    async def _page(
        self,
        request: Request,
        choice: RenewalChoice,
        locale: str,
        *,
        error: BookingError | None = None,
        status: int = 200,
    ) -> Response:
        renewed = await self._renewed_booking(choice)
        pay_url = ""
        if renewed is not None and renewed.is_open:
            pay_url = await self._pay_path(renewed)
        return _render(
            "page.html",
            locale,
            status=status,
            choice=choice,
            options=options(choice, locale),
            closes=when(choice.closes_at, choice.timezone, locale) if choice.closes_at else "",
            opens=when(choice.opens_at, choice.timezone, locale) if choice.opens_at else "",
            shut=_shut(choice, self.ctx) if choice.state != "renewed" else "",
            error=error_text(error, locale) if error is not None else "",
            renewed=renewed,
            deadline=when(renewed.deadline, renewed.timezone, locale)
            if renewed is not None and renewed.deadline
            else "",
            pay_url=pay_url,
            action=request.url.path,
        )

    async def _renewed_booking(self, choice: RenewalChoice) -> BookingView | None:
        if choice.state != "renewed" or not choice.new_reference:
            return None
        actor = Actor.customer(choice.customer_id, choice.holder_name, "email")
        return await bookings.get_booking(self.ctx, actor=actor, reference=choice.new_reference)

    async def _pay_path(self, booking: BookingView) -> str:
        return f"/pay/{await checkouts.pay_link_token(self.ctx, booking=booking)}"

    async def _to_pay(self, booking: BookingView, locale: str) -> Response:
        """To the new booking's pay page (303: the browser GETs it, and a reload there does
        not post the form again)."""
        path = await self._pay_path(booking)
        query = f"?lang={locale}" if locale != "en" else ""
        return RedirectResponse(f"{path}{query}", status_code=303, headers=HEADERS)


def options(choice: RenewalChoice, locale: str) -> list[dict[str, Any]]:
    """The offers as the page shows them: price, and what the seat will be."""
    return [
        {
            "product_id": o.product_id,
            "name": o.name,
            "price": money(o.price_minor, o.currency, locale),
            "seat": o.seat.label(locale) if o.seat else "",
            "same_seat": o.same_seat,
            "seating": o.seating,
        }
        for o in choice.options
    ]


def same_origin(request: Request, public_url: str) -> bool:
    """Guard: a browser says where a form was posted from (Origin). Only this site (the public
    address, or the address the request came to) may post; "null" (a sandboxed frame, a
    data: page) may not. No Origin at all (an old browser, a script holding the link) is let
    through: the link itself is the proof, as on the pay page."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    own = {_origin(public_url), _origin(str(request.base_url))}
    return origin.rstrip("/").lower() in own


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


async def _chosen(request: Request) -> int | None:
    body = await request.body()
    if len(body) > FORM_MAX:
        return None
    form = await request.form()
    value = form.get("product_id")
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _shut(choice: RenewalChoice, ctx: Context) -> str:
    """Why nothing can be chosen now: "closed", "not_open", or "" while the window is open."""
    if choice.open_now:
        return ""
    closes = choice.closes_at
    if choice.state == "released" or (closes is not None and ctx.clock.now() >= closes):
        return "closed"
    return "not_open"


def _locale(request: Request, preferred: str | None) -> str:
    """?lang= first, then the holder's language, then the browser's (as the pay page)."""
    asked = request.query_params.get("lang")
    browser = request.headers.get("accept-language", "en").split(",")[0]
    return pick_locale(asked or preferred or browser)


def _message(locale: str, what: str, *, status: int) -> Response:
    return _render("message.html", locale, status=status, what=what)


def _render(name: str, locale: str, *, status: int = 200, **values: Any) -> Response:
    html = (
        customer_environment(locale).get_template(f"renew/{name}").render(locale=locale, **values)
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)
