"""The console served by a real uvicorn on loopback, configured as ``guichet serve`` does, and
browsers at chosen client addresses (any 127.x.y.z is a distinct peer on Linux loopback)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import uvicorn

from booking.clock import FrozenClock
from console.serving import web_config
from console.settings import RuntimeSettings

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class SleepyClock(FrozenClock):
    """A frozen clock that can sleep: the sign-in delay is recorded, not spent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await asyncio.sleep(0)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # pytest keeps its own signal handlers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def runtime_settings(port: int, *, trusted_proxies: str = "", log_level: str = "warning") -> Any:
    return RuntimeSettings(  # type: ignore[call-arg]
        web_host="127.0.0.1",
        web_port=port,
        log_level=log_level,
        trusted_proxies=trusted_proxies,
        _env_file=None,
    )


@contextlib.asynccontextmanager
async def served(
    app: Any, *, trusted_proxies: str = "", log_level: str = "warning", config: Any = None
) -> AsyncIterator[str]:
    """The base URL of ``app`` served by uvicorn, configured by ``console.serving.web_config``
    (or by ``config``, a function of the port, to serve it some other way)."""
    port = free_port()
    if config is None:
        made = web_config(app, runtime_settings(port, trusted_proxies=trusted_proxies,
                                                log_level=log_level))  # fmt: skip
    else:
        made = config(port)
    server = _Server(made)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110  (uvicorn offers no event to wait on)
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


class Browser:
    """One browser at one client address: a cookie jar and the CSRF token of its last page."""

    def __init__(self, base_url: str, address: str = "127.0.0.1") -> None:
        self.client = httpx.AsyncClient(
            base_url=base_url,
            transport=httpx.AsyncHTTPTransport(local_address=address),
            timeout=60,
        )
        self.csrf = ""

    async def __aenter__(self) -> Browser:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    async def get(self, path: str) -> httpx.Response:
        answer = await self.client.get(path)
        self._remember(answer)
        return answer

    async def open_login(self) -> None:
        await self.get("/console/login")
        assert self.csrf, "the sign-in page carries a CSRF token"

    async def sign_in(
        self, email: str, password: str, *, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        if not self.csrf:
            await self.open_login()
        answer = await self.client.post(
            "/console/login",
            data={"csrf": self.csrf, "email": email, "password": password},
            headers=headers,
        )
        self._remember(answer)
        return answer

    async def post(self, path: str, data: dict[str, str] | None = None) -> httpx.Response:
        answer = await self.client.post(path, data={"csrf": self.csrf, **(data or {})})
        self._remember(answer)
        return answer

    def _remember(self, answer: httpx.Response) -> None:
        html = "html" in answer.headers.get("content-type", "")
        found = CSRF.search(answer.text) if html else None
        if found:
            self.csrf = found.group(1)
