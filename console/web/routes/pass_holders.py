"""Console pass pages (issue 12): placeholder, filled by its owner this session."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
