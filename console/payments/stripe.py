"""Stripe Checkout over its HTTP API with httpx, and its webhook signature check.

Only two calls matter: create a Checkout Session (the customer pays on Stripe's page), and
receive ``checkout.session.completed`` (or ``…async_payment_succeeded``) on our webhook. The
webhook is trusted only when its ``Stripe-Signature`` carries an HMAC-SHA256 of
``<timestamp>.<body>`` under the endpoint's signing secret, with a timestamp within the
tolerance (a replayed old call is refused); a replay within it is harmless because a payment
is recorded once per (provider, checkout session).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

import httpx

from booking.payment_providers import (
    CheckoutRequest,
    CheckoutStart,
    PaymentReport,
    ProviderUnavailable,
    UntrustedReport,
)
from booking.rules.formatting import currency_code, minor_digits

log = logging.getLogger(__name__)
NAME = "stripe"
PAID_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})

# Stripe's amounts are in "the currency's minor unit" as Stripe counts it
# (https://docs.stripe.com/currencies#minor-units): these have none, these three, every other
# two. It mostly agrees with CLDR, which sizes our stored minor units (booking.rules.formatting),
# but not always: ISK and HUF, whole units in CLDR, stay two-decimal in Stripe's API.
STRIPE_ZERO_DECIMAL = frozenset(
    "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()  # noqa: SIM905
)
STRIPE_THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])


def stripe_digits(currency: str) -> int:
    code = currency.upper()
    if code in STRIPE_ZERO_DECIMAL:
        return 0
    return 3 if code in STRIPE_THREE_DECIMAL else 2


def to_stripe(amount_minor: int, currency: str) -> int:
    """Our minor units -> Stripe's: ¥4500 stays 4500 (not 450000), ISK 500 becomes 50000."""
    shift = stripe_digits(currency) - minor_digits(currency)
    if shift >= 0:
        return amount_minor * _power(shift)
    whole, rest = divmod(amount_minor, _power(-shift))
    if rest:
        raise ProviderUnavailable(f"{currency} amount {amount_minor} has no Stripe equivalent")
    return whole


def from_stripe(amount: int, currency: str) -> int:
    """Stripe's minor units -> ours; an amount that does not fit stays as is (so it fails the
    check against the booking's total instead of being rounded into a match)."""
    shift = minor_digits(currency) - stripe_digits(currency)
    if shift >= 0:
        return amount * _power(shift)
    whole, rest = divmod(amount, _power(-shift))
    return amount if rest else whole


def _power(digits: int) -> int:
    """10 ** digits for digits >= 0, typed as the int it is."""
    return int(10**digits)


class BadSignature(UntrustedReport):
    """The webhook call was not signed by Stripe with our secret, or is too old."""


class StripeCheckout:
    name = NAME
    is_test = False

    def __init__(
        self,
        *,
        secret_key: str,
        webhook_secret: str,
        api_url: str = "https://api.stripe.com",
        tolerance: int = 300,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._secret_key = secret_key
        self._webhook_secret = webhook_secret
        self.api_url = api_url.rstrip("/")
        self.tolerance = tolerance
        self._transport = transport  # tests hand a fake Stripe API here

    async def start_checkout(self, request: CheckoutRequest) -> CheckoutStart:
        form = {
            "mode": "payment",
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "client_reference_id": request.reference,
            "metadata[reference]": request.reference,
            "line_items[0][quantity]": "1",
            "line_items[0][price_data][currency]": request.currency.lower(),
            "line_items[0][price_data][unit_amount]": str(
                to_stripe(request.amount_minor, request.currency)
            ),
            "line_items[0][price_data][product_data][name]": request.description[:250],
        }
        if request.customer_email:
            form["customer_email"] = request.customer_email
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=20) as client:
                response = await client.post(
                    f"{self.api_url}/v1/checkout/sessions",
                    data=form,
                    auth=(self._secret_key, ""),
                    headers={"Idempotency-Key": request.idempotency_key},
                )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"Stripe unreachable: {type(exc).__name__}") from exc
        body = _json(response)
        if response.status_code >= 400 or "id" not in body or "url" not in body:
            error = body.get("error") or {}
            # The error's type and code only: never the request, which holds the customer's email.
            log.warning(
                "Stripe refused a checkout (%s): %s %s",
                response.status_code, error.get("type"), error.get("code"),
            )  # fmt: skip
            raise ProviderUnavailable(f"Stripe answered {response.status_code}")
        return CheckoutStart(str(body["id"]), str(body["url"]))

    def read_report(
        self, payload: bytes, headers: Mapping[str, str], *, now: float | None = None
    ) -> PaymentReport | None:
        """The paid checkout a verified webhook call reports, or None for other events.
        Raises BadSignature for a call we cannot trust."""
        signature = headers.get("stripe-signature", "")
        verify_signature(
            payload, signature, self._webhook_secret, tolerance=self.tolerance, now=now
        )
        try:
            event = json.loads(payload)
            obj = event["data"]["object"]
        except (ValueError, KeyError, TypeError) as exc:
            raise BadSignature("not a Stripe event") from exc
        if not isinstance(obj, dict) or "id" not in obj:
            raise BadSignature("not a checkout session event")
        if event.get("type") not in PAID_EVENTS or obj.get("payment_status") != "paid":
            return None
        currency = str(obj.get("currency") or "").upper()
        amount = int(obj.get("amount_total") or 0)
        return PaymentReport(
            session_id=str(obj["id"]),
            amount_minor=from_stripe(amount, currency) if currency_code(currency) else amount,
            currency=currency,
        )


def verify_signature(
    payload: bytes, header: str, secret: str, *, tolerance: int = 300, now: float | None = None
) -> None:
    """Stripe's scheme: ``t=<unix time>,v1=<hex hmac>[,v1=…]`` over ``t.payload``."""
    if not secret:
        raise BadSignature("no webhook secret configured")
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    timestamps = [v for k, v in parts if k.strip() == "t"]
    signatures = [v.strip() for k, v in parts if k.strip() == "v1"]
    if not timestamps or not signatures or not timestamps[0].strip().isdigit():
        raise BadSignature("malformed Stripe-Signature header")
    stamp = int(timestamps[0])
    expected = sign(payload, secret, stamp)
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise BadSignature("signature mismatch")
    if abs((time.time() if now is None else now) - stamp) > tolerance:
        raise BadSignature("timestamp outside the tolerance (replayed or clock skew)")


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
