"""Every console route checks the session, the role, and (for POST) the CSRF token first."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Route

from console.web.pages import allowed
from console.web.routes import console_routes
from tests.console.conftest import ConsoleFactory

SAMPLES = {"reference": "K7M-4QX", "name": "sales"}
OPEN = {"/login"}  # the sign-in form itself


def guarded_routes() -> list[tuple[str, str, str]]:
    """(method, path with sample parameters, permission) of every guarded console route."""
    found = []
    for route in console_routes():
        assert isinstance(route, Route)
        if route.path in OPEN:
            continue
        path = "/console" + re.sub(
            r"\{(\w+)(?::\w+)?\}", lambda m: SAMPLES.get(m.group(1), "1"), route.path
        )
        permission = getattr(route.endpoint, "permission", None)
        assert permission is not None, f"{route.path} is not guarded"
        for method in sorted((route.methods or set()) - {"HEAD"}):
            found.append((method, path, permission))
    return found


ROUTES = guarded_routes()


def test_every_route_but_sign_in_is_guarded() -> None:
    assert len(ROUTES) > 40


@pytest.mark.parametrize("role", ["box_office", "organizer"])
async def test_each_role_is_refused_exactly_the_pages_it_may_not_see(
    console_for: ConsoleFactory, role: str
) -> None:
    console = await console_for(role)
    for method, path, permission in ROUTES:
        if method != "GET":
            continue
        answer = await console.get(path)
        if allowed(role, permission):
            assert answer.status_code != 403, (role, path)
        else:
            assert answer.status_code == 403, (role, path)
            assert "Not allowed for your role" in answer.text


async def test_every_form_is_refused_without_its_csrf_token_or_a_session(
    console_for: ConsoleFactory,
) -> None:
    admin = await console_for("admin")
    stranger = await console_for(login=False)
    for method, path, _ in ROUTES:
        if method != "POST":
            continue
        forged = await admin.client.post(path, data={"csrf": "not-the-token"})
        assert forged.status_code == 403 and "This form has expired" in forged.text, path
        anonymous = await stranger.client.post(path, data={})
        assert anonymous.status_code == 401, path


async def test_a_role_refusal_on_a_form_comes_after_a_valid_token(
    console_for: ConsoleFactory,
) -> None:
    desk = await console_for("box_office")
    for method, path, permission in ROUTES:
        if method == "POST" and not allowed("box_office", permission):
            refused = await desk.post(path, {})
            assert refused.status_code == 403 and "Not allowed for your role" in refused.text, path
