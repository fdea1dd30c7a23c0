"""``/t/<secret>``, what every ticket's QR code opens (SPEC §9 "The door").

Anyone sees the ticket itself: event, date and place, seat, booking reference, valid or not,
and the holder's name (no other personal data), in the holder's language. Door staff get a
link to the door page's answer for this code, one tap from admitting it: the console's
session cookie is scoped to /console, so this page cannot know who is looking.

The secret is in the path, which console.serving redacts from the access log.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from booking.context import Context
from booking.rules.formatting import pick_locale, when
from booking.services import checkin
from console.web.render import render, translator


def routes(ctx: Context) -> list[Route]:
    async def ticket(request: Request) -> Response:
        secret = request.path_params["secret"]
        found = await checkin.show(ctx, secret=secret)
        heard = request.headers.get("accept-language", "en")[:5]
        locale = pick_locale(found.language if found else heard)
        values: dict[str, object] = {"_": translator(locale), "lang": locale, "ticket": found}
        if found is not None:
            values |= {
                "when": when(found.starts_at, found.timezone, locale),
                "seat": found.seat.label(locale) if found.seat else "",
                "door_link": "/console/door?code=" + quote(secret, safe=""),
            }
        body = render("ticket/ticket.html", values)
        headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
        return HTMLResponse(body, status_code=200 if found else 404, headers=headers)

    return [Route("/t/{secret}", ticket, methods=["GET"])]
