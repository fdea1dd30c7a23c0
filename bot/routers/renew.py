"""/renew (issue 12): placeholder, filled by its owner this session."""

from __future__ import annotations

from bot.routers import Handlers

router = Handlers("renew")
