"""The headers ``classify`` reads, kept decoded by ``parse`` so classification needs nothing
else from the raw message. Its own module so the two can grow apart without a cycle."""

from __future__ import annotations

CLASSIFY_HEADERS = (
    "auto-submitted", "x-autoreply", "x-autorespond", "x-auto-response-suppress",
    "precedence", "list-id", "list-unsubscribe", "return-path", "x-failed-recipients",
)  # fmt: skip
