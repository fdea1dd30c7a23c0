"""The headers ``classify`` reads, kept decoded by ``parse`` so classification needs nothing
else from the raw message. Its own module so the two can grow apart without a cycle."""

from __future__ import annotations

CLASSIFY_HEADERS = (
    "auto-submitted", "x-autoreply", "x-autorespond", "x-auto-response-suppress",
    "precedence", "list-id", "list-unsubscribe", "return-path", "x-failed-recipients",
    # Machine mail of issue 9: cPanel's auto-responder and BoxTrapper, TMDA challenges,
    # Amazon SNS notifications, fml list servers, and KDDI's Reply-To.
    "x-precedence", "preference", "x-delivery-agent", "x-amz-sns-message-type",
    "x-amz-sns-message-id", "x-mlserver", "reply-to",
)  # fmt: skip
