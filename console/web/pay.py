"""The pay page (SPEC §4): ``/pay/<token>`` shows the booking and sends the customer to the
payment provider; the provider's report (Stripe's webhook, or the test page's button)
confirms the booking, and the outbox sends the tickets by email and Telegram.

Pass credit (issue 12 item 7): when the customer's pass has credit in the booking's currency,
the page offers to use it first (``/pay/<token>/credit``): all that is due paid by credit
confirms the booking; a part leaves the rest due, which is what the provider is then asked for.

A forged or expired link, a booking that can no longer be paid, a provider that is down:
each gets a plain page in the customer's language, never a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from booking.context import Context
from booking.errors import BookingError
from booking.i18n import error_text
from booking.item_lines import item_lines
from booking.payment_providers import (
    CheckoutRequest,
    PaymentProvider,
    ProviderUnavailable,
    UntrustedReport,
)
from booking.rules.formatting import money, pick_locale, when
from booking.services import bookings, checkouts, customers, pass_credit
from booking.services.pass_credit import BookingCredit
from booking.views import BookingView
from console.web.render import customer_environment

log = logging.getLogger(__name__)


def routes(ctx: Context, provider: PaymentProvider | None) -> list[Route]:
    """The pay page's routes, mounted by ``build_app``. The test page exists only when the
    test provider is the one configured, and the Stripe webhook only with Stripe."""
    page = _PayPage(ctx, provider)
    found = [
        Route("/pay/{token}", page.summary, methods=["GET"]),
        Route("/pay/{token}/checkout", page.checkout, methods=["POST"]),
        Route("/pay/{token}/credit", page.credit, methods=["POST"]),
        Route("/pay/{token}/done", page.done, methods=["GET"]),
    ]
    if provider is not None and provider.name == "test":
        found[:0] = [
            Route("/pay/test/{session_id}", page.test_checkout, methods=["GET"]),
            Route("/pay/test/{session_id}", page.test_pay, methods=["POST"]),
        ]
    if provider is not None and not provider.is_test:
        webhook = f"/pay/webhook/{provider.name}"  # /pay/webhook/stripe
        found.insert(0, Route(webhook, page.webhook, methods=["POST"]))
    return found


class _PayPage:
    def __init__(self, ctx: Context, provider: PaymentProvider | None) -> None:
        self.ctx = ctx
        self.provider = provider

    async def summary(self, request: Request) -> Response:
        found = await self._booking(request)
        if isinstance(found, Response):
            return found
        booking, locale = found
        return await self._summary(request, locale, booking)

    async def checkout(self, request: Request) -> Response:
        found = await self._booking(request)
        if isinstance(found, Response):
            return found
        booking, locale = found
        if self.provider is None:
            return self._message(locale, "unavailable", status=503)
        try:
            await checkouts.payable(self.ctx, reference=booking.reference)
            customer = await customers.get_customer(self.ctx, customer_id=booking.customer_id)
            token = request.path_params["token"]
            base = self.ctx.settings.public_url.rstrip("/")
            due = await checkouts.amount_due(self.ctx, reference=booking.reference)
            start = await self.provider.start_checkout(
                CheckoutRequest(
                    reference=booking.reference,
                    amount_minor=due,  # the total less the pass credit the booking uses
                    currency=booking.currency,
                    description=f"{booking.reference} · {booking.title}",
                    customer_email=customer.email,
                    success_url=f"{base}/pay/{token}/done",
                    cancel_url=f"{base}/pay/{token}",
                    idempotency_key=f"guichet:{booking.reference}:{due}",
                )
            )
            await checkouts.open_checkout(
                self.ctx,
                reference=booking.reference,
                provider=self.provider.name,
                session_id=start.session_id,
            )
        except BookingError as error:
            return self._page("summary.html", locale, booking, error=_error(error, locale),
                              status=409)  # fmt: skip
        except ProviderUnavailable as exc:
            log.warning("pay page: %s", exc)
            return self._message(locale, "provider_down", status=502)
        return RedirectResponse(start.redirect_url, status_code=303)

    async def credit(self, request: Request) -> Response:
        """Use the customer's pass credit on the booking: paid in full, the thank-you page;
        in part, the summary again with what is left to pay. The link names the booking; the
        service checks that the pass is its customer's, paid, in its currency, with credit."""
        found = await self._booking(request)
        if isinstance(found, Response):
            return found
        booking, locale = found
        form = await request.form()
        pass_id = str(form.get("pass_id", ""))
        try:
            if not pass_id.isdigit():
                raise BookingError("credit_none")
            done = await pass_credit.apply(
                self.ctx, actor=checkouts.PAY_ACTOR, reference=booking.reference,
                pass_id=int(pass_id),
            )  # fmt: skip
        except BookingError as error:
            return await self._summary(request, locale, booking, refused=_error(error, locale))
        if done.outcome == "paid":  # the paid notice goes to every channel of the customer
            return self._page("done.html", locale, done.booking, paid=True)
        token = request.path_params["token"]
        return RedirectResponse(f"/pay/{token}", status_code=303)

    async def _summary(
        self, request: Request, locale: str, booking: BookingView, refused: str | None = None
    ) -> Response:
        """The booking, what is due once pass credit is counted, the credit it could use, and
        the provider's pay button; ``refused`` (credit that could not be used) above them,
        status 409. A booking that cannot be paid any more says why instead."""
        try:
            await checkouts.payable(self.ctx, reference=booking.reference)
        except BookingError as error:
            status = 200 if error.code == "already_paid" else 409
            return self._page("summary.html", locale, booking, error=_error(error, locale),
                              status=status)  # fmt: skip
        credit = await pass_credit.booking_credit(
            self.ctx, actor=checkouts.PAY_ACTOR, reference=booking.reference
        )
        return self._page(
            "summary.html", locale, booking, error=None, credit_error=refused,
            status=409 if refused else 200, request_token=request.path_params["token"],
            **_credit_values(credit, locale),
        )  # fmt: skip

    async def done(self, request: Request) -> Response:
        found = await self._booking(request)
        if isinstance(found, Response):
            return found
        booking, locale = found
        return self._page("done.html", locale, booking, paid=booking.status == "confirmed")

    async def test_checkout(self, request: Request) -> Response:
        checkout = await checkouts.find_checkout(
            self.ctx, provider="test", session_id=request.path_params["session_id"]
        )
        if checkout is None:
            return self._message(_locale(request, None), "invalid", status=404)
        locale = await self._locale_of(request, checkout.reference)
        amount = money(checkout.amount_minor, checkout.currency, locale)
        return self._render("test_checkout.html", locale, checkout=checkout, amount=amount)

    async def test_pay(self, request: Request) -> Response:
        session_id = request.path_params["session_id"]
        checkout = await checkouts.find_checkout(self.ctx, provider="test", session_id=session_id)
        if checkout is None:
            return self._message(_locale(request, None), "invalid", status=404)
        locale = await self._locale_of(request, checkout.reference)
        result = await checkouts.complete_checkout(
            self.ctx,
            provider="test",
            session_id=session_id,
            amount_minor=checkout.amount_minor,
            currency=checkout.currency,
        )
        booking = result.booking
        paid = booking.status == "confirmed"
        return self._page("done.html", locale, booking, paid=paid, refund=booking.refund_due)

    async def webhook(self, request: Request) -> Response:
        """The provider reports a payment. Verified first; the same report twice (a replay
        within the tolerance, a provider retry) confirms once and answers ``duplicate``."""
        assert self.provider is not None
        try:
            report = self.provider.read_report(await request.body(), request.headers)
        except UntrustedReport as exc:
            log.warning("%s webhook refused: %s", self.provider.name, exc)
            return JSONResponse({"error": "untrusted"}, status_code=400)
        if report is None:
            return JSONResponse({"status": "ignored"})
        try:
            result = await checkouts.complete_checkout(
                self.ctx,
                provider=self.provider.name,
                session_id=report.session_id,
                amount_minor=report.amount_minor,
                currency=report.currency,
            )
        except BookingError as error:  # not one of our checkouts (another app on the account)
            return JSONResponse({"status": "ignored", "reason": error.code})
        return JSONResponse({"status": result.outcome, "reference": result.booking.reference})

    async def _booking(self, request: Request) -> tuple[BookingView, str] | Response:
        try:
            booking = await checkouts.booking_for_pay_token(
                self.ctx, token=request.path_params["token"]
            )
        except BookingError:
            return self._message(_locale(request, None), "invalid", status=404)
        customer = await customers.get_customer(self.ctx, customer_id=booking.customer_id)
        return booking, _locale(request, customer.language)

    async def _locale_of(self, request: Request, reference: str) -> str:
        booking = await bookings.get_booking(
            self.ctx, actor=checkouts.PAY_ACTOR, reference=reference
        )
        customer = await customers.get_customer(self.ctx, customer_id=booking.customer_id)
        return _locale(request, customer.language)

    def _page(
        self, name: str, locale: str, booking: BookingView, status: int = 200, **values: Any
    ) -> Response:
        tz = booking.timezone
        return self._render(
            name, locale, status=status, booking=booking,
            total=money(booking.total_minor, booking.currency, locale),
            deadline=when(booking.deadline, tz, locale) if booking.deadline else "",
            starts=when(booking.starts_at, tz, locale),
            lines=[(line, money(line.unit_price_minor, booking.currency, locale),
                    money(line.total_minor, booking.currency, locale))
                   for line in item_lines(booking.items)],
            **values,
        )  # fmt: skip

    def _message(self, locale: str, what: str, *, status: int) -> Response:
        return self._render("message.html", locale, status=status, what=what)

    def _render(self, name: str, locale: str, *, status: int = 200, **values: Any) -> Response:
        is_test = bool(self.provider and self.provider.is_test)
        html = (
            customer_environment(locale)
            .get_template(f"pay/{name}")
            .render(
                locale=locale, is_test=is_test, has_provider=self.provider is not None, **values
            )
        )
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _error(error: BookingError, locale: str) -> str:
    return error_text(error, locale)


def _locale(request: Request, preferred: str | None) -> str:
    """?lang= first, then the customer's language, then the browser's."""
    asked = request.query_params.get("lang")
    browser = request.headers.get("accept-language", "en").split(",")[0]
    return pick_locale(asked or preferred or browser)


def _credit_values(credit: BookingCredit, locale: str) -> dict[str, Any]:
    """What the summary shows of pass credit: applied, left to pay, and each offer's label."""

    def amount(minor: int) -> str:
        return money(minor, credit.currency, locale)

    offers = [
        (o, amount(o.use_minor), amount(o.rest_minor), amount(o.balance_minor))
        for o in credit.offers[:3]  # a holder has one pass a season; three fit the page
    ]
    applied = amount(credit.applied_minor) if credit.applied_minor else ""
    return {"applied": applied, "due": amount(credit.due_minor), "offers": offers}
