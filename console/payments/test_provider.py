"""The TEST payment provider: its "checkout" is a page of ours with a "Pay (test)" button.

For demos and tests only, and labelled so on every page it shows: no money moves. It is
never chosen by default (``GUICHET_PAY_PROVIDER=test`` turns it on). The session id is
random and unguessable, because whoever holds it can mark the booking paid.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from booking.payment_providers import (
    CheckoutRequest,
    CheckoutStart,
    PaymentReport,
    UntrustedReport,
)

NAME = "test"


class TestProvider:
    name = NAME
    is_test = True
    __test__ = False  # not a pytest test class, whatever its name

    def __init__(self, public_url: str) -> None:
        self.public_url = public_url.rstrip("/")

    async def start_checkout(self, request: CheckoutRequest) -> CheckoutStart:
        session_id = f"test_{secrets.token_urlsafe(24)}"
        return CheckoutStart(session_id, f"{self.public_url}/pay/test/{session_id}")

    def read_report(self, payload: bytes, headers: Mapping[str, str]) -> PaymentReport | None:
        # Its payments are reported by our own page's button, never by a webhook call.
        raise UntrustedReport("the test provider has no webhook")
