"""A burst of concurrent sign-ins from a process of its own, as an attacker elsewhere sends it:

    python -m tests.console.burst_client BASE_URL EMAIL COUNT

Opens the sign-in page once (cookie and CSRF token), sends COUNT wrong passwords at once and
prints their status codes as one JSON list. The server under test keeps its event loop to
itself: the client's own work does not count in the server's latency.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys

import httpx

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def burst(base_url: str, email: str, count: int) -> list[int]:
    limits = httpx.Limits(max_connections=count)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as client:
        page = await client.get("/console/login")
        found = CSRF.search(page.text)
        assert found, "the sign-in page carries a CSRF token"
        form = {"csrf": found.group(1), "email": email}
        answers = await asyncio.gather(
            *(client.post("/console/login", data=form | {"password": f"guess {i}"})
              for i in range(count))
        )  # fmt: skip
    return [a.status_code for a in answers]


if __name__ == "__main__":
    url, address, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print(json.dumps(asyncio.run(burst(url, address, size))))
