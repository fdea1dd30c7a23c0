"""/start: a welcome, linking by the deep link of a booking email, or by email and a code;
and "Use another email address" for a customer who has one on file.

A code is promised only when it can be mailed (``linking.codes_can_be_mailed``). Without
email, the deep link of a booking email still links a chat, and the box office can help: the
bot says so instead of asking for an address it cannot prove.
"""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from booking.context import Context
from booking.errors import BookingError
from booking.i18n import error_text
from booking.rules.limits import EMAIL_MAX, capped
from booking.services import bookings, linking
from booking.views import CustomerView
from bot import cards
from bot.callbacks import MenuCb, pressed
from bot.common import changed, forget_moved, full_name, show
from bot.i18n import _, current_locale
from bot.middlewares import KnownCustomers
from bot.prompts import controls
from bot.routers import Handlers
from bot.start_keyboards import LINK, OTHER_EMAIL, has_email, start_menu
from bot.states import Linking, finish, save

router = Handlers("start")
TEXT = F.text & ~F.text.startswith("/")
FINAL = {"too_many_codes", "already_linked", "email_elsewhere", "telegram_taken"}


def no_email_text() -> str:
    return _(
        "Linking by email is not possible right now: I cannot send email at the moment. To see "
        "here the bookings you made by email, open the link in one of your booking emails; or "
        "ask the box office."
    )


@router.message(CommandStart(deep_link=True))
async def start_with_link(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
    known: KnownCustomers | None,
) -> None:
    await finish(state)
    assert message.from_user is not None
    works = await linking.codes_can_be_mailed(ctx)
    try:
        linked = await linking.link_by_payload(
            ctx,
            payload=command.args or "",
            telegram_user_id=message.from_user.id,
            chat_id=message.chat.id,
            name=full_name(message.from_user),
            language=current_locale(),
            mail_codes=works,
        )
    except BookingError as error:
        menu = start_menu(customer, email_works=works)
        await message.answer(error_text(error, current_locale()), reply_markup=menu)
        return
    changed(known, message.from_user)
    if linked.customer is None:  # linked to another Telegram account: the mailed code moves it
        await save(state, Linking.code, {})
        await message.answer(
            _(
                "These bookings are linked to another Telegram account. To move them to this "
                "chat, type the 6-digit code I have just sent to their email address (it is "
                "valid for 15 minutes). The other account will be told."
            ),
            reply_markup=controls(),
        )
        return
    await _linked(message, ctx, linked, known)


@router.message(CommandStart())
async def start(
    message: Message, state: FSMContext, ctx: Context, customer: CustomerView | None
) -> None:
    await finish(state)
    works = await linking.codes_can_be_mailed(ctx)
    if customer is not None and has_email(customer):
        text = _("Welcome back, {name}!", name=customer.name)
    elif works:
        text = _(
            "Welcome to Guichet! I can show you what is on, hold places for you until a "
            "deadline, take payment and send your tickets.\n"
            "Booked already by email, at the box office or by phone? Link those bookings with "
            "your email address."
        )
    else:
        text = _(
            "Welcome to Guichet! I can show you what is on, hold places for you until a "
            "deadline, take payment and send your tickets.\n"
            "Booked already by email? Open the link in one of your booking emails to see those "
            "bookings here."
        )
    await message.answer(text, reply_markup=start_menu(customer, email_works=works))


@router.callback_query(pressed(MenuCb, "link", "email"))
async def ask_email(
    query: CallbackQuery, state: FSMContext, ctx: Context, customer: CustomerView | None
) -> None:
    await show(query, *await _ask_email(state, ctx, customer))
    await query.answer()


@router.message(Command("link", "email"))
async def ask_email_command(
    message: Message, state: FSMContext, ctx: Context, customer: CustomerView | None
) -> None:
    text, markup = await _ask_email(state, ctx, customer)
    await message.answer(text, reply_markup=markup)


async def _ask_email(
    state: FSMContext, ctx: Context, customer: CustomerView | None
) -> tuple[str, InlineKeyboardMarkup]:
    """The address prompt: the one to link, or (with one on file) the one to use instead."""
    if not await linking.codes_can_be_mailed(ctx):
        await finish(state)
        return no_email_text(), start_menu(customer, email_works=False)
    if customer is not None and customer.email is not None:
        await save(state, Linking.email, {"replace": True})
        text = _(
            "Your bookings use {email}. Which address should I use instead? I will send a code "
            "to it; nothing changes until you type that code here.",
            email=customer.email,
        )
        return text, controls()
    await save(state, Linking.email, {})
    return _("Which email address did you book with?"), controls()


@router.message(Linking.email, TEXT)
async def send_code(
    message: Message,
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
    known: KnownCustomers | None,
) -> None:
    assert message.from_user is not None and message.text is not None
    replace = bool((await state.get_data()).get("replace"))
    if not await linking.codes_can_be_mailed(ctx):  # it went down since the prompt
        await finish(state)
        await message.answer(no_email_text(), reply_markup=start_menu(customer, email_works=False))
        return
    try:
        email = capped(message.text, EMAIL_MAX)
        await linking.send_link_code(
            ctx,
            email=email,
            telegram_user_id=message.from_user.id,
            chat_id=message.chat.id,
            name=full_name(message.from_user),
            language=current_locale(),
            replacing=replace,
        )
    except BookingError as error:
        if error.code in FINAL:
            await finish(state)
            await message.answer(error_text(error, current_locale()))
            return
        # Type it again at the same step (a typo, too long): the buttons stay at hand.
        await message.answer(error_text(error, current_locale()), reply_markup=controls())
        return
    changed(known, message.from_user)  # a first contact may have made the chat's record
    # The same words, and a code, whether the address is a customer's or not (SPEC §12).
    await save(state, Linking.code, {"email": email, "replace": replace})
    if replace:
        text = _(
            "I sent a 6-digit code to {email}. Type it here to use that address (it is valid "
            "for 15 minutes).",
            email=email,
        )
    else:
        text = _(
            "I sent a 6-digit code to {email}. Type it here to link your bookings "
            "(it is valid for 15 minutes).",
            email=email,
        )
    await message.answer(text, reply_markup=controls(OTHER_EMAIL if replace else LINK))


@router.message(Linking.code, TEXT)
async def check_code(
    message: Message, state: FSMContext, ctx: Context, known: KnownCustomers | None
) -> None:
    assert message.from_user is not None and message.text is not None
    data = await state.get_data()
    replace = bool(data.get("replace"))
    try:
        linked = await linking.confirm_link_code(
            ctx,
            telegram_user_id=message.from_user.id,
            chat_id=message.chat.id,
            code=message.text.strip(),
            replacing=replace,
        )
    except BookingError as error:
        if error.code != "link_code_invalid":  # already_linked, telegram_taken: final
            await finish(state)
            await message.answer(error_text(error, current_locale()))
            return
        hint = _("Type the code again, or /start to ask for a new one.")
        back = (OTHER_EMAIL if replace else LINK) if "email" in data else None
        await message.answer(
            f"{error_text(error, current_locale())}\n{hint}", reply_markup=controls(back)
        )
        return
    changed(known, message.from_user)
    await finish(state)
    if replace:
        assert linked.customer is not None
        await message.answer(
            _(
                "Done: your bookings now use {email}.",
                email=linked.customer.email or "-",
            ),
            reply_markup=start_menu(linked.customer, email_works=True),
        )
        return
    await _linked(message, ctx, linked, known)


async def _linked(
    message: Message, ctx: Context, linked: linking.Linked, known: KnownCustomers | None
) -> None:
    customer = linked.customer
    assert customer is not None
    forget_moved(known, linked)
    found = await bookings.my_bookings(ctx, customer_id=customer.id)
    await message.answer(
        _(
            "Done: this chat is linked to {name} ({email}).",
            name=customer.name,
            email=customer.email or "-",
        )
        + "\n\n"
        + cards.bookings_text(found, 0),
        reply_markup=cards.bookings_keyboard(found, 0),
    )
