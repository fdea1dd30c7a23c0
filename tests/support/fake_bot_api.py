"""A fake Telegram Bot API on loopback, so tests drive a real aiogram Bot and Dispatcher over HTTP.

Point aiogram at it with ``AiohttpSession(api=fake.api_server)`` (that is
``TelegramAPIServer.from_base(fake.base_url)``): it serves ``/bot{token}/{method}`` and
``/file/bot{token}/{path}``, records every call, and answers with objects aiogram's models accept.
Updates are queued with ``push_update`` or the ``send_text``/``press_button``/``pre_checkout``/
``successful_payment`` builders and handed out by a long-polling ``getUpdates``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import httpx
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

JSON = dict[str, Any]
TOKEN = "123456789:AAFakeTokenForGuichetTestsOnly-abcdefghij"
SEND_METHODS = frozenset({"sendmessage", "sendphoto", "senddocument", "sendinvoice"})
# aiogram sends every non-string value JSON-encoded, but strings raw: these must never be decoded,
# or a text of "42" or "true" would come back as a number or a boolean.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "data",
        "title",
        "description",
        "payload",
        "currency",
        "url",
        "provider_token",
        "provider_data",
        "start_parameter",
        "parse_mode",
        "callback_query_id",
        "pre_checkout_query_id",
        "error_message",
        "secret_token",
        "photo",
        "document",
        "file_id",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "language_code",
        "ip_address",
        "photo_url",
        "emoji",
    }
)
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


@dataclass(frozen=True)
class Call:
    """One request the bot made; ``ok`` is False when it was answered with an error."""

    method: str
    params: JSON
    files: dict[str, bytes] = field(default_factory=dict)
    ok: bool = True
    result: Any = None  # what the fake answered (e.g. the sent Message, with its message_id)

    @property
    def message_id(self) -> int | None:
        return self.result.get("message_id") if isinstance(self.result, dict) else None

    @property
    def text(self) -> str | None:
        text = self.params.get("text", self.params.get("caption"))
        return text if isinstance(text, str) else None

    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback data) of the inline keyboard sent with this call, row by row."""
        markup = self.params.get("reply_markup")
        if not isinstance(markup, dict):
            return []
        return [
            (b["text"], b.get("callback_data", ""))
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]

    def __repr__(self) -> str:  # bytes would drown the AssertionError messages
        sizes = {name: f"<{len(data)} bytes>" for name, data in self.files.items()}
        return f"Call({self.method}, {self.params}, files={sizes}, ok={self.ok})"


class ApiError(Exception):
    """Raised by a method handler (or scripted by ``fail_next``) to answer with Telegram's error."""

    def __init__(
        self,
        status: int,
        description: str,
        retry_after: int | None = None,
        page: str | None = None,
    ) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after
        self.page = page  # answered instead of JSON, as a proxy in front of Telegram does

    def response(self) -> web.Response:
        if self.page is not None:
            return web.Response(text=self.page, status=self.status, content_type="text/html")
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return web.json_response(body, status=self.status)


@dataclass
class _Request:
    token: str
    params: JSON
    files: dict[str, bytes]
    filenames: dict[str, str]


Handler = Callable[[_Request], Awaitable[Any]]


def _decode(name: str, value: str) -> Any:
    if name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # e.g. chat_id="@channel"


async def _read_request(request: web.Request) -> _Request:
    params: JSON = {k: _decode(k, v) for k, v in request.query.items()}
    files: dict[str, bytes] = {}
    filenames: dict[str, str] = {}
    if request.content_type == "application/json":
        params.update(await request.json())
    else:  # aiogram posts urlencoded forms, or multipart when a file is attached
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[name], filenames[name] = value.file.read(), value.filename
            else:
                params[name] = _decode(name, str(value))
    # Uploads are referenced as photo="attach://<random key>"; record them under "photo".
    for name, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
            key = value[9:]
            files[name], filenames[name] = files.pop(key), filenames.pop(key)
    return _Request(request.match_info["token"], params, files, filenames)


def _chat_id(params: JSON) -> int:
    chat_id = params.get("chat_id")
    if chat_id is None:
        raise ApiError(400, "Bad Request: chat_id is empty")
    if not isinstance(chat_id, int):
        raise ApiError(400, "Bad Request: chat not found")
    return chat_id


def _inline_markup(params: JSON) -> JSON | None:
    # Telegram only echoes inline keyboards back in Message.reply_markup.
    markup = params.get("reply_markup")
    return markup if isinstance(markup, dict) and "inline_keyboard" in markup else None


class FakeBotAPI:
    """``async with FakeBotAPI() as fake:`` serves on ``fake.base_url`` until the block exits."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.uploads: dict[str, bytes] = {}  # file_id -> bytes, served by getFile + /file/
        self._updates: list[JSON] = []
        self._allowed_updates: set[str] | None = None
        self._update_ids = itertools.count(1)
        self._ids = itertools.count(1)  # callback, pre-checkout, file and charge ids
        self._message_ids: defaultdict[int, itertools.count[int]] = defaultdict(
            lambda: itertools.count(1)
        )
        self._messages: dict[tuple[int, int], JSON] = {}
        self._users: dict[int, JSON] = {}
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._failures: defaultdict[str, deque[ApiError]] = defaultdict(deque)
        self._changed = asyncio.Event()
        self._listeners: list[Callable[[Call], None]] = []
        # Webhook mode: once setWebhook names a URL, queued updates are POSTed there one at a
        # time, in order, as Telegram does; each delivery's HTTP status is recorded.
        self.webhook_deliveries: list[tuple[int, int]] = []  # (update_id, status)
        self._webhook_task: asyncio.Task[None] | None = None
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self._handlers: dict[str, Handler] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "answercallbackquery": self._true,
            "answerprecheckoutquery": self._true,
            "sendphoto": self._send_photo,
            "senddocument": self._send_document,
            "sendinvoice": self._send_invoice,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemessage": self._delete_message,
            "getfile": self._get_file,
            "close": self._true,
            "logout": self._true,
        }

    # -- lifecycle -------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        app = web.Application(client_max_size=50 * 1024 * 1024)  # photo/document uploads
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        # handler_cancellation: a cancelled client long-poll must not keep a handler waiting.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()  # port 0: no race for a port
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing = True
        self._notify()  # releases pending long-polls so cleanup does not wait for them
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_server(self) -> TelegramAPIServer:
        return TelegramAPIServer.from_base(self.base_url)

    # -- recording and assertions ----------------------------------------------------------
    def fail_next(
        self,
        method: str,
        status: int,
        description: str,
        retry_after: int | None = None,
        *,
        times: int = 1,
        page: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with this Telegram error (with
        ``page``: that HTML instead of Telegram's JSON, as a failing proxy answers)."""
        for _ in range(times):
            error = ApiError(status, description, retry_after, page)
            self._failures[method.lower()].append(error)

    def listen(self, listener: Callable[[Call], None]) -> None:
        """Call ``listener`` with every recorded call as it happens (benchmarks use this
        instead of ``wait_for``, which rescans the calls)."""
        self._listeners.append(listener)

    def sent_messages(self, chat_id: int) -> list[Call]:
        """Successful send* calls (message, photo, document, invoice) to ``chat_id``, in order."""
        return [
            c
            for c in self.calls
            if c.ok and c.method.lower() in SEND_METHODS and c.params.get("chat_id") == chat_id
        ]

    def last_text(self, chat_id: int) -> str | None:
        """The text or caption of the latest message sent or edited in ``chat_id``."""
        for call in reversed(self.calls):
            if call.ok and call.params.get("chat_id") == chat_id:
                text = call.params.get("text", call.params.get("caption"))
                if isinstance(text, str):
                    return text
        return None

    async def wait_for(
        self,
        predicate: Callable[[Call], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the helper's contract, like pytest's
    ) -> Call:
        """The first recorded call matching ``predicate``, waiting up to ``timeout`` seconds."""
        deadline = asyncio.get_running_loop().time() + timeout
        seen = 0
        while True:
            for call in self.calls[seen:]:
                if predicate(call):
                    return call
            seen = len(self.calls)
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                recorded = "\n  ".join(map(repr, self.calls)) or "(none)"
                raise AssertionError(f"no matching call within {timeout}s; calls:\n  {recorded}")
            await self._wait_changed(remaining)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_changed(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._changed.wait()

    # -- updates ---------------------------------------------------------------------------
    def push_update(self, update: JSON) -> JSON:
        """Queue a raw update for getUpdates (an ``update_id`` is assigned if missing)."""
        update.setdefault("update_id", next(self._update_ids))
        self._updates.append(update)
        self._notify()
        if self.webhook_url and self._webhook_task is None:
            self._webhook_task = asyncio.create_task(self._deliver_webhooks())
        return update

    async def _deliver_webhooks(self) -> None:
        """POST queued updates to the webhook, in order; a failed delivery is retried."""
        async with httpx.AsyncClient(timeout=30, verify=False) as client:
            while self.webhook_url and self._updates and not self._closing:
                update = self._updates[0]
                headers = {}
                if self.webhook_secret:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
                try:
                    response = await client.post(self.webhook_url, json=update, headers=headers)
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0
                self.webhook_deliveries.append((update["update_id"], status))
                self._notify()
                if 200 <= status < 300:
                    self._updates.pop(0)
                else:
                    await asyncio.sleep(0.05)  # Telegram backs off; the test ends it
        self._webhook_task = None

    async def wait_delivered(self, update_id: int, timeout: float = 5.0) -> int:  # noqa: ASYNC109
        """The HTTP status of the first webhook delivery of ``update_id``."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for delivered, status in self.webhook_deliveries:
                if delivered == update_id:
                    return status
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"update {update_id} was not delivered within {timeout}s")
            await self._wait_changed(remaining)

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str = "Ada",
        language_code: str = "en",
        enqueue: bool = True,
    ) -> JSON:
        """A private text message from the user (``enqueue=False`` only builds it, for webhooks)."""
        self._users[user_id] = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": language_code,
        }
        message = self._user_message(user_id, text=text)
        if text.startswith("/"):  # real clients mark commands, and some filters look at entities
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        return self._update({"message": message}, enqueue)

    def press_button(
        self, user_id: int, message_id: int, data: str, *, enqueue: bool = True
    ) -> JSON:
        """The user presses an inline button of message ``message_id`` in their private chat."""
        # A snapshot: later edits must not change an update that is already queued.
        message = dict(
            self._messages.get((user_id, message_id))
            or {
                "chat": self._chat(user_id),
                "message_id": message_id,
                "date": 0,  # inaccessible
            }
        )
        query = {
            "id": str(next(self._ids)),
            "from": self._user(user_id),
            "chat_instance": f"ci-{user_id}",
            "message": message,
            "data": data,
        }
        return self._update({"callback_query": query}, enqueue)

    def pre_checkout(
        self, user_id: int, payload: str, total_amount: int, currency: str, *, enqueue: bool = True
    ) -> JSON:
        query = {
            "id": str(next(self._ids)),
            "from": self._user(user_id),
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": payload,
        }
        return self._update({"pre_checkout_query": query}, enqueue)

    def successful_payment(
        self,
        user_id: int,
        payload: str,
        total_amount: int,
        currency: str,
        *,
        telegram_payment_charge_id: str | None = None,
        provider_payment_charge_id: str | None = None,
        enqueue: bool = True,
    ) -> JSON:
        n = next(self._ids)
        payment = {
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": payload,
            "telegram_payment_charge_id": telegram_payment_charge_id or f"tg-charge-{n}",
            "provider_payment_charge_id": provider_payment_charge_id or f"provider-charge-{n}",
        }
        message = self._user_message(user_id, successful_payment=payment)
        return self._update({"message": message}, enqueue)

    async def deliver_via_webhook(
        self, url: str, update: JSON, secret_token: str | None = None
    ) -> int:
        """POST ``update`` to the app as Telegram would; returns the HTTP status."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token} if secret_token else {}
        # verify=False: the app under test is on loopback, and loading the CA bundle costs ~0.2s
        async with httpx.AsyncClient(timeout=10, verify=False) as client:
            response = await client.post(url, json=update, headers=headers)
        return response.status_code

    def _update(self, body: JSON, enqueue: bool) -> JSON:
        update = {"update_id": next(self._update_ids), **body}
        return self.push_update(update) if enqueue else update

    def _user(self, user_id: int) -> JSON:
        return self._users.get(user_id) or {"id": user_id, "is_bot": False, "first_name": "Ada"}

    def _chat(self, chat_id: int) -> JSON:
        if chat_id < 0:
            return {"id": chat_id, "type": "supergroup", "title": "Group"}
        return {"id": chat_id, "type": "private", "first_name": self._user(chat_id)["first_name"]}

    def _user_message(self, user_id: int, **content: Any) -> JSON:
        # Both sides of a private chat share one message_id sequence, as on Telegram.
        return {
            "message_id": next(self._message_ids[user_id]),
            "date": int(time.time()),
            "chat": self._chat(user_id),
            "from": self._user(user_id),
            **content,
        }

    # -- HTTP ------------------------------------------------------------------------------
    async def _dispatch(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        req = await _read_request(request)
        try:
            if failures := self._failures.get(method.lower()):
                raise failures.popleft()
            handler = self._handlers.get(method.lower())
            if handler is None:
                raise ApiError(404, "Not Found")  # what Telegram answers for unknown methods
            result = await handler(req)
            ok, response = True, web.json_response({"ok": True, "result": result})
        except ApiError as error:
            ok, response, result = False, error.response(), None
        call = Call(method, req.params, req.files, ok, result)
        self.calls.append(call)
        for listener in self._listeners:
            listener(call)
        self._notify()
        return response

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].rsplit("/", 1)[-1].split(".")[0]
        if file_id not in self.uploads:
            raise web.HTTPNotFound()
        return web.Response(body=self.uploads[file_id])

    # -- methods ---------------------------------------------------------------------------
    async def _true(self, req: _Request) -> bool:
        return True

    async def _get_me(self, req: _Request) -> JSON:
        return self._bot_user(req.token) | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _bot_user(self, token: str) -> JSON:
        bot_id = token.split(":", 1)[0]
        return {
            "id": int(bot_id) if bot_id.isdigit() else 1,
            "is_bot": True,
            "first_name": "Guichet",
            "username": "guichet_test_bot",
        }

    async def _get_updates(self, req: _Request) -> list[JSON]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        params = req.params
        offset = int(params.get("offset") or 0)
        if offset > 0:  # confirms (forgets) every update before it
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        if isinstance(params.get("allowed_updates"), list):  # remembered, as Telegram does
            self._allowed_updates = set(params["allowed_updates"]) or None
        deadline = asyncio.get_running_loop().time() + float(params.get("timeout") or 0)
        while not self._closing:
            if self._allowed_updates is not None:  # Telegram drops types the bot did not ask for
                allowed = self._allowed_updates
                self._updates = [u for u in self._updates if allowed & u.keys()]
            remaining = deadline - asyncio.get_running_loop().time()
            if self._updates or remaining <= 0:
                break
            await self._wait_changed(remaining)
        return self._updates[: int(params.get("limit") or 100)]

    async def _set_webhook(self, req: _Request) -> bool:
        self.webhook_url = str(req.params.get("url") or "")
        self.webhook_secret = req.params.get("secret_token")
        if req.params.get("drop_pending_updates"):
            self._updates.clear()
        if self.webhook_url and self._updates and self._webhook_task is None:
            self._webhook_task = asyncio.create_task(self._deliver_webhooks())
        return True

    async def _delete_webhook(self, req: _Request) -> bool:
        self.webhook_url, self.webhook_secret = "", None
        if req.params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, req: _Request) -> JSON:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _bot_message(self, req: _Request, **content: Any) -> JSON:
        chat_id = _chat_id(req.params)
        message = {
            "message_id": next(self._message_ids[chat_id]),
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": self._bot_user(req.token),
            **content,
        }
        if markup := _inline_markup(req.params):
            message["reply_markup"] = markup
        self._messages[(chat_id, message["message_id"])] = message
        return message

    async def _send_message(self, req: _Request) -> JSON:
        if not req.params.get("text"):
            raise ApiError(400, "Bad Request: message text is empty")
        content: JSON = {"text": req.params["text"]}
        if "entities" in req.params:
            content["entities"] = req.params["entities"]
        return self._bot_message(req, **content)

    def _upload(self, req: _Request, name: str) -> tuple[str, int]:
        """Store an uploaded file; a file_id or URL sent instead is reused as the id."""
        if name in req.files:
            file_id = f"file-{next(self._ids)}"
            self.uploads[file_id] = req.files[name]
            return file_id, len(req.files[name])
        value = req.params.get(name)
        if not isinstance(value, str) or not value:
            raise ApiError(400, f"Bad Request: there is no {name} in the request")
        return value, len(self.uploads.get(value, b""))

    def _captioned(self, req: _Request, **content: Any) -> JSON:
        if caption := req.params.get("caption"):
            content["caption"] = caption
        return self._bot_message(req, **content)

    async def _send_photo(self, req: _Request) -> JSON:
        file_id, size = self._upload(req, "photo")
        photo = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "width": 320,
            "height": 320,
            "file_size": size,
        }
        return self._captioned(req, photo=[photo])

    async def _send_document(self, req: _Request) -> JSON:
        file_id, size = self._upload(req, "document")
        document = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": size,
            "file_name": req.filenames.get("document", "document"),
        }
        return self._captioned(req, document=document)

    async def _send_invoice(self, req: _Request) -> JSON:
        p = req.params
        invoice = {
            "title": p.get("title", ""),
            "description": p.get("description", ""),
            "start_parameter": p.get("start_parameter", ""),
            "currency": p.get("currency", ""),
            "total_amount": sum(int(price["amount"]) for price in p.get("prices", [])),
        }
        return self._bot_message(req, invoice=invoice)

    def _message_key(self, req: _Request, action: str) -> tuple[int, int]:
        key = (_chat_id(req.params), int(req.params.get("message_id") or 0))
        if key not in self._messages:
            raise ApiError(400, f"Bad Request: message to {action} not found")
        return key

    async def _edit(self, req: _Request, **changes: Any) -> JSON | bool:
        if req.params.get("inline_message_id"):
            return True  # Telegram answers True for inline messages
        message = self._messages[self._message_key(req, "edit")]
        changes["reply_markup"] = _inline_markup(req.params)
        if all(message.get(k) == v for k, v in changes.items()):
            raise ApiError(400, _NOT_MODIFIED)
        message.update({k: v for k, v in changes.items() if v is not None})
        if changes["reply_markup"] is None:
            message.pop("reply_markup", None)
        message["edit_date"] = int(time.time())
        return message

    async def _edit_message_text(self, req: _Request) -> JSON | bool:
        if not req.params.get("text"):
            raise ApiError(400, "Bad Request: message text is empty")
        return await self._edit(req, text=req.params["text"])

    async def _edit_message_reply_markup(self, req: _Request) -> JSON | bool:
        return await self._edit(req)

    async def _delete_message(self, req: _Request) -> bool:
        del self._messages[self._message_key(req, "delete")]
        return True

    async def _get_file(self, req: _Request) -> JSON:
        file_id = str(req.params.get("file_id", ""))
        if file_id not in self.uploads:
            raise ApiError(400, "Bad Request: invalid file_id")
        size = len(self.uploads[file_id])
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": size,
            "file_path": f"files/{file_id}",
        }

    def _commands_key(self, req: _Request) -> tuple[str, str]:
        scope = req.params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(req.params.get("language_code") or "")

    async def _set_my_commands(self, req: _Request) -> bool:
        self._commands[self._commands_key(req)] = list(req.params.get("commands", []))
        return True

    async def _get_my_commands(self, req: _Request) -> list[JSON]:
        return self._commands.get(self._commands_key(req), [])
