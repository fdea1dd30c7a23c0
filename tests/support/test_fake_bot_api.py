"""The fake Bot API speaks well enough for a real aiogram Bot and Dispatcher."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from tests.support import fixtures
from tests.support.fake_bot_api import TOKEN, Call, FakeBotAPI

fake_bot_api = fixtures.fake_bot_api  # a module-level name is how pytest finds a fixture

USER = 4242
KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="Book", callback_data="book:1")]]
)


def desk_router() -> Router:
    router = Router()

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    @router.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await query.answer(f"pressed {query.data}")

    @router.pre_checkout_query()
    async def checkout(query: PreCheckoutQuery) -> None:
        await query.answer(ok=True)

    @router.message(F.successful_payment)
    async def paid(message: Message) -> None:
        assert message.successful_payment is not None
        await message.answer(f"paid {message.successful_payment.invoice_payload}")

    return router


def sent_to(chat_id: int, method: str = "sendMessage") -> Callable[[Call], bool]:
    return lambda call: call.method == method and call.params.get("chat_id") == chat_id


@pytest.fixture
async def bot(fake_bot_api: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, session=AiohttpSession(api=fake_bot_api.api_server)) as bot:
        yield bot


@pytest.fixture
async def polling(bot: Bot, fake_bot_api: FakeBotAPI) -> AsyncIterator[Dispatcher]:
    dispatcher = Dispatcher()
    dispatcher.include_router(desk_router())
    # handle_as_tasks=False: every update is fully handled before the next poll, so stopping
    # leaves no handler task behind; the bot fixture owns (and closes) the session.
    task = asyncio.create_task(
        dispatcher.start_polling(
            bot, handle_signals=False, handle_as_tasks=False, close_bot_session=False
        )
    )
    await fake_bot_api.wait_for(lambda call: call.method == "getMe")
    yield dispatcher
    await dispatcher.stop_polling()
    await task


async def test_text_update_is_echoed_through_send_message(
    fake_bot_api: FakeBotAPI,
    polling: Dispatcher,
) -> None:
    fake_bot_api.send_text(USER, "Bonjour", first_name="Zoé", language_code="fr")

    call = await fake_bot_api.wait_for(sent_to(USER))

    assert call.params["text"] == "Bonjour"
    assert fake_bot_api.last_text(USER) == "Bonjour"
    assert [c.params["text"] for c in fake_bot_api.sent_messages(USER)] == ["Bonjour"]


async def test_button_press_is_answered(
    fake_bot_api: FakeBotAPI,
    bot: Bot,
    polling: Dispatcher,
) -> None:
    sent = await bot.send_message(USER, "Pick a slot", reply_markup=KEYBOARD)
    update = fake_bot_api.press_button(USER, sent.message_id, "book:1")

    answer = await fake_bot_api.wait_for(lambda call: call.method == "answerCallbackQuery")

    assert answer.params["callback_query_id"] == update["callback_query"]["id"]
    assert answer.params["text"] == "pressed book:1"


async def test_payment_updates_reach_their_handlers(
    fake_bot_api: FakeBotAPI,
    polling: Dispatcher,
) -> None:
    query = fake_bot_api.pre_checkout(USER, "booking:7", 2500, "EUR")["pre_checkout_query"]
    answer = await fake_bot_api.wait_for(lambda call: call.method == "answerPreCheckoutQuery")
    assert answer.params == {"pre_checkout_query_id": query["id"], "ok": True}

    fake_bot_api.successful_payment(USER, "booking:7", 2500, "EUR")
    reply = await fake_bot_api.wait_for(sent_to(USER))
    assert reply.params["text"] == "paid booking:7"


async def test_get_updates_honours_offset(fake_bot_api: FakeBotAPI, bot: Bot) -> None:
    first = fake_bot_api.send_text(USER, "one")
    second = fake_bot_api.send_text(USER, "two")

    assert [u.update_id for u in await bot.get_updates()] == [
        first["update_id"],
        second["update_id"],
    ]
    assert [u.update_id for u in await bot.get_updates(offset=second["update_id"], timeout=1)] == [
        second["update_id"]
    ]


async def test_get_updates_long_polls_until_its_timeout(fake_bot_api: FakeBotAPI, bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()

    assert await bot.get_updates(timeout=1) == []
    assert loop.time() - started >= 0.9  # the dispatcher tests show an update ends it early


async def test_rate_limit_surfaces_as_retry_after(fake_bot_api: FakeBotAPI, bot: Bot) -> None:
    fake_bot_api.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)

    with pytest.raises(TelegramRetryAfter) as raised:
        await bot.send_message(USER, "hello")
    await bot.send_message(USER, "hello again")

    assert raised.value.retry_after == 1
    assert [(c.params["text"], c.ok) for c in fake_bot_api.calls] == [
        ("hello", False),
        ("hello again", True),
    ]


async def test_blocked_user_surfaces_as_forbidden(fake_bot_api: FakeBotAPI, bot: Bot) -> None:
    fake_bot_api.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")

    with pytest.raises(TelegramForbiddenError, match="blocked"):
        await bot.send_message(USER, "hello")
    assert fake_bot_api.sent_messages(USER) == []


async def test_send_photo_records_the_uploaded_bytes(fake_bot_api: FakeBotAPI, bot: Bot) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8

    message = await bot.send_photo(USER, BufferedInputFile(png, "qr.png"), caption="Ticket")

    call = fake_bot_api.sent_messages(USER)[-1]
    assert (call.method, call.params["caption"]) == ("sendPhoto", "Ticket")
    assert call.files["photo"] == png
    assert message.photo is not None
    downloaded = await bot.download(message.photo[-1].file_id)  # getFile + /file/bot{token}/...
    assert downloaded is not None and downloaded.read() == png


async def test_other_methods_answer_what_aiogram_expects(
    fake_bot_api: FakeBotAPI,
    bot: Bot,
) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot) == (bot.id, True)

    message = await bot.send_message(USER, "Slot 10:00", reply_markup=KEYBOARD)
    edited = await bot.edit_message_text("Slot 11:00", chat_id=USER, message_id=message.message_id)
    assert isinstance(edited, Message) and edited.text == "Slot 11:00"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("Slot 11:00", chat_id=USER, message_id=message.message_id)
    await bot.edit_message_reply_markup(
        chat_id=USER, message_id=message.message_id, reply_markup=KEYBOARD
    )
    assert await bot.delete_message(USER, message.message_id)
    assert message.message_id < (await bot.send_message(USER, "next")).message_id

    document = await bot.send_document(USER, BufferedInputFile(b"%PDF-1.4", "ticket.pdf"))
    assert document.document is not None and document.document.file_name == "ticket.pdf"
    invoice = await bot.send_invoice(
        USER, "Concert", "Seat A1", "booking:7", "EUR", [LabeledPrice(label="Seat", amount=2500)]
    )
    assert invoice.invoice is not None and invoice.invoice.total_amount == 2500

    commands = [BotCommand(command="start", description="Start")]
    assert await bot.set_my_commands(commands)
    assert [(c.command, c.description) for c in await bot.get_my_commands()] == [("start", "Start")]

    assert await bot.set_webhook("https://example.test/tg", secret_token="s3cret")
    assert (await bot.get_webhook_info()).url == "https://example.test/tg"
    assert await bot.delete_webhook()
    assert await bot.log_out() and await bot.close()


async def test_webhook_delivery_carries_the_secret_token(
    fake_bot_api: FakeBotAPI,
    bot: Bot,
) -> None:
    dispatcher = Dispatcher()
    dispatcher.include_router(desk_router())
    app = web.Application()
    SimpleRequestHandler(
        dispatcher, bot, handle_in_background=False, secret_token="s3cret"
    ).register(app, path="/tg")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    url = f"http://{host}:{port}/tg"
    try:
        update = fake_bot_api.send_text(USER, "via webhook", enqueue=False)
        assert await fake_bot_api.deliver_via_webhook(url, update, "wrong") == 401
        assert await fake_bot_api.deliver_via_webhook(url, update, "s3cret") == 200
        assert fake_bot_api.last_text(USER) == "via webhook"
    finally:
        await runner.cleanup()


async def test_wait_for_reports_the_recorded_calls(fake_bot_api: FakeBotAPI, bot: Bot) -> None:
    await bot.get_me()

    with pytest.raises(AssertionError, match=r"(?s)no matching call within 0.05s.*getMe"):
        await fake_bot_api.wait_for(lambda call: call.method == "sendMessage", timeout=0.05)


def test_call_repr_shows_file_sizes_not_bytes() -> None:
    call = Call("sendPhoto", {"chat_id": 1}, {"photo": b"x" * 1000})
    assert "<1000 bytes>" in repr(call) and "xxx" not in repr(call)
