"""Tell a person's reply from machine mail, which is recorded but never answered.

Answering an auto-reply or a bounce starts a mail loop, and answering a mailing list spams
its members (SPEC §11), so when in doubt we lean towards "machine": a human whose mail is
misread gets no answer and can write again, a loop keeps going.

Order matters: a bounce is recognised first (it often also looks automatic), then the
explicit auto-reply headers, then list headers, and only then the weaker signals (subject
wording, an empty Return-Path without any other sign).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Collection
from urllib.parse import urlsplit

from mail.parse import ParsedMessage
from mail.quotes import fold


class Kind(enum.Enum):
    HUMAN = "human"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    LIST = "list"


# Matched at the start of the fold()ed subject: auto-responders put their marker first
# ("Réponse automatique : Votre réservation"), while a person's reply starts with "Re:".
_AUTO_SUBJECT = re.compile(
    r"(out of (the )?office|automatic (reply|response)|auto[- ]?(reply|response)\b|auto ?:"
    r"|away from (the )?office|on vacation|vacation\b|on leave\b"
    r"|reponse automatique|reponse auto\b|absence du bureau|message d'absence"
    r"|absente?\b|en conges?\b|conges\b|vacances\b)"
)
_BOUNCE_SUBJECT = re.compile(
    r"(undelivered mail|undeliverable|delivery status notification \((failure|delay)\)"
    r"|mail delivery (failed|failure)|returned mail|failure notice|delivery failure"
    r"|non remis|non distribuable|echec de (la )?(remise|distribution))"
)
_DAEMONS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"})
_AUTO_PRECEDENCE = frozenset({"bulk", "junk", "auto_reply"})
_FALSE_VALUES = frozenset({"no", "false", "0"})
_FIELD = re.compile(r"^([A-Za-z-]+)[ \t]*:[ \t]*(.*(?:\n[ \t].*)*)", re.MULTILINE)


def classify(msg: ParsedMessage, *, own_domains: Collection[str] = ()) -> Kind:
    """Classify ``msg``.

    ``own_domains``: the domains of the List-Unsubscribe links we put on our own
    notifications; a header pointing only there was not added by a mailing list.  Left
    empty, any List-Unsubscribe makes a list, which is the safe side.
    """
    if _is_bounce(msg):
        return Kind.BOUNCE
    if _has_auto_reply_header(msg):
        return Kind.AUTO_REPLY
    if _is_list(msg, own_domains):
        return Kind.LIST
    if _AUTO_SUBJECT.match(fold(msg.subject)):
        return Kind.AUTO_REPLY
    if (msg.header("return-path") or "").strip() == "<>":
        # The null sender is reserved for notifications about mail (RFC 5321 §4.5.5).
        return Kind.BOUNCE
    return Kind.HUMAN


def failed_recipients(msg: ParsedMessage) -> tuple[str, ...]:
    """Addresses a bounce says could not be delivered, lowercased, for the caller to mark
    the customer undeliverable.  Empty for a delay notice or a bounce we cannot read."""
    found = dict.fromkeys(_dsn_failures(msg.delivery_status or ""))
    for address in (msg.header("x-failed-recipients") or "").split(","):  # Exim, no DSN
        if "@" in address:
            found.setdefault(address.strip().strip("<>").lower())
    return tuple(found)


def _is_bounce(msg: ParsedMessage) -> bool:
    is_dsn = msg.content_type == "multipart/report" and msg.report_type == "delivery-status"
    daemon = msg.from_addr.rpartition("@")[0] in _DAEMONS
    return (
        is_dsn
        or msg.delivery_status is not None
        or daemon
        or msg.header("x-failed-recipients") is not None
        or bool(_BOUNCE_SUBJECT.match(fold(msg.subject)))
    )


def _has_auto_reply_header(msg: ParsedMessage) -> bool:
    # RFC 3834: any Auto-Submitted value but "no" (auto-replied, auto-generated, …).
    submitted = (msg.header("auto-submitted") or "no").split(";")[0].strip().lower()
    suppress = re.split(r"[\s,]+", (msg.header("x-auto-response-suppress") or "").lower())
    precedence = (msg.header("precedence") or "").strip().lower()
    return (
        submitted not in ("", "no")
        or _is_set(msg.header("x-autoreply"))
        or _is_set(msg.header("x-autorespond"))
        # Exchange marks its own out-of-office replies so that nobody answers them.
        or bool({"oof", "all"} & set(suppress))
        or precedence in _AUTO_PRECEDENCE
    )


def _is_set(value: str | None) -> bool:
    return value is not None and value.strip().lower() not in _FALSE_VALUES


def _is_list(msg: ParsedMessage, own_domains: Collection[str]) -> bool:
    if msg.header("list-id") is not None:
        return True
    if (msg.header("precedence") or "").strip().lower() == "list":
        return True
    unsubscribe = msg.header("list-unsubscribe")
    return unsubscribe is not None and not _all_ours(unsubscribe, own_domains)


def _all_ours(list_unsubscribe: str, own_domains: Collection[str]) -> bool:
    """True when every <mailto:…> / <https://…> in the header points at one of our domains."""
    hosts = [_host(uri) for uri in re.findall(r"<([^<>]+)>", list_unsubscribe)]
    domains = {d.lower().strip(".") for d in own_domains}
    return bool(hosts) and all(
        any(host == d or host.endswith(f".{d}") for d in domains) for host in hosts
    )


def _host(uri: str) -> str:
    uri = uri.strip()
    if uri.lower().startswith("mailto:"):
        return uri[len("mailto:") :].split("?")[0].rpartition("@")[2].lower()
    try:
        return (urlsplit(uri).hostname or "").lower()
    except ValueError:  # e.g. an invalid IPv6 literal
        return ""


def _dsn_failures(delivery_status: str) -> list[str]:
    """Recipients of the per-recipient blocks of an RFC 3464 report that failed for good.

    Original-Recipient is preferred: it is the address we sent to, before any forwarding
    the receiving side applied, so it matches the customer record.
    """
    addresses: list[str] = []
    for block in re.split(r"\n[ \t]*\n", delivery_status):
        fields = {name.lower(): value for name, value in _FIELD.findall(block)}
        recipient = fields.get("original-recipient") or fields.get("final-recipient")
        if recipient is None or not _is_failure(fields):
            continue
        address = recipient.rpartition(";")[2].strip().strip("<>").strip().lower()
        if "@" in address:
            addresses.append(" ".join(address.split()))
    return addresses


def _is_failure(fields: dict[str, str]) -> bool:
    action = fields.get("action", "").strip().lower()
    if action:
        return action == "failed"  # "delayed", "delivered", "relayed", "expanded" are not
    return fields.get("status", "").strip().startswith("5")
