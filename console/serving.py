"""How uvicorn serves the web app: which proxies are believed, and an access log without secrets.

Two rules, both decided here so that ``guichet serve`` and the tests run the same server:

- Forwarded headers (``X-Forwarded-For``/``-Proto``) are believed only when the socket's peer
  is one of ``GUICHET_TRUSTED_PROXIES`` (IPs or CIDRs, comma-separated; empty by default, and
  then uvicorn's proxy-header handling is off altogether). uvicorn's own default trusts
  127.0.0.1, which let any local client pick the address that sign-in throttling counts.
- The access log never shows a pay-link or ticket token: the secret path segments under
  ``/pay/`` and ``/t/`` and every query-string value are replaced by "…" before any handler
  formats the line.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

import uvicorn

from console.settings import ConfigurationError, RuntimeSettings

ACCESS_LOGGER = "uvicorn.access"
HIDDEN = "…"
# Under these prefixes every path segment is a secret except the route's own words.
SECRET_PREFIXES: dict[str, frozenset[str]] = {
    "/pay/": frozenset({"checkout", "done", "test", "webhook", "stripe"}),
    "/t/": frozenset(),
    "/renew/": frozenset(),
}


def trusted_proxies(raw: str) -> list[str]:
    """The GUICHET_TRUSTED_PROXIES entries, each checked to be an IP address or network."""
    found = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError as exc:
            raise ConfigurationError(
                f"GUICHET_TRUSTED_PROXIES: {item!r} is not an IP address or network (CIDR)"
            ) from exc
        found.append(item)
    return found


def web_config(app: Any, runtime: RuntimeSettings) -> uvicorn.Config:
    """The uvicorn configuration of the web role (and of the tests' real servers)."""
    proxies = trusted_proxies(runtime.trusted_proxies)
    config = uvicorn.Config(
        app,
        host=runtime.web_host,
        port=runtime.web_port,
        log_level=runtime.log_level,
        lifespan="off",
        # Off unless a proxy is named: with it on and no list, uvicorn would trust 127.0.0.1
        # (or whatever FORWARDED_ALLOW_IPS says in the environment).
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or [],
    )
    redact_access_log()  # after Config, which (re)configures uvicorn's loggers
    return config


def redact_path(path: str) -> str:
    """``/pay/<token>/checkout?lang=fr`` → ``/pay/…/checkout?lang=…``."""
    path, mark, query = path.partition("?")
    for prefix, words in SECRET_PREFIXES.items():
        if path.startswith(prefix):
            segments = path[len(prefix) :].split("/")
            path = prefix + "/".join(s if s in words or not s else HIDDEN for s in segments)
            break
    if mark:
        fields = (pair.partition("=") for pair in query.split("&"))
        query = "&".join(f"{name}={HIDDEN}" if eq else name for name, eq, _ in fields)
    return path + mark + query


class RedactTokens(logging.Filter):
    """Rewrites uvicorn's access-log record in place: ``(client, method, path, version,
    status)``, the path being the third argument."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_path(args[2]), *args[3:])
        return True


def redact_access_log() -> None:
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactTokens) for f in logger.filters):
        logger.addFilter(RedactTokens())
