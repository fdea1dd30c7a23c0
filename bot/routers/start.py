"""/start: a welcome, linking by the deep link of a booking email, or by email and a code."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from booking.context import Context
from booking.errors import BookingError
from booking.i18n import error_text
from booking.services import bookings, linking
from booking.views import CustomerView
from bot import cards, keyboards
from bot.callbacks import MenuCb, pressed
from bot.common import changed, forget_moved, full_name, show
from bot.i18n import _, current_locale
from bot.middlewares import KnownCustomers
from bot.routers import Handlers
from bot.states import Linking, finish, save

router = Handlers("start")
TEXT = F.text & ~F.text.startswith("/")


@router.message(CommandStart(deep_link=True))
async def start_with_link(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    ctx: Context,
    known: KnownCustomers | None,
) -> None:
    await finish(state)
    assert message.from_user is not None
    try:
        linked = await linking.link_by_payload(
            ctx,
            payload=command.args or "",
            telegram_user_id=message.from_user.id,
            chat_id=message.chat.id,
            name=full_name(message.from_user),
            language=current_locale(),
        )
    except BookingError as error:
        await message.answer(
            error_text(error, current_locale()), reply_markup=keyboards.start_menu(False)
        )
        return
    changed(known, message.from_user)
    if linked.customer is None:  # linked to another Telegram account: the mailed code moves it
        await save(state, Linking.code, {})
        await message.answer(
            _(
                "These bookings are linked to another Telegram account. To move them to this "
                "chat, type the 6-digit code I have just sent to their email address (it is "
                "valid for 15 minutes). The other account will be told."
            )
        )
        return
    await _linked(message, ctx, linked, known)


@router.message(CommandStart())
async def start(message: Message, state: FSMContext, customer: CustomerView | None) -> None:
    await finish(state)
    linked = customer is not None and customer.email is not None
    if linked:
        assert customer is not None
        text = _("Welcome back, {name}!", name=customer.name)
    else:
        text = _(
            "Welcome to Guichet! I can show you what is on, hold places for you until a "
            "deadline, take payment and send your tickets.\n"
            "Booked already by email, at the box office or by phone? Link those bookings with "
            "your email address."
        )
    await message.answer(text, reply_markup=keyboards.start_menu(linked))


@router.callback_query(pressed(MenuCb, "link"))
async def ask_email(query: CallbackQuery, state: FSMContext) -> None:
    await save(state, Linking.email, {})
    await show(query, _("Which email address did you book with?"))
    await query.answer()


@router.message(Command("link"))
async def ask_email_command(message: Message, state: FSMContext) -> None:
    await save(state, Linking.email, {})
    await message.answer(_("Which email address did you book with?"))


@router.message(Linking.email, TEXT)
async def send_code(
    message: Message, state: FSMContext, ctx: Context, known: KnownCustomers | None
) -> None:
    assert message.from_user is not None and message.text is not None
    email = message.text.strip()
    try:
        await linking.send_link_code(
            ctx,
            email=email,
            telegram_user_id=message.from_user.id,
            chat_id=message.chat.id,
            name=full_name(message.from_user),
            language=current_locale(),
        )
    except BookingError as error:
        if error.code in ("too_many_codes", "already_linked"):
            await finish(state)
        await message.answer(error_text(error, current_locale()))
        return
    changed(known, message.from_user)  # a first contact may have made the chat's record
    # The same words, and a code, whether the address is a customer's or not (SPEC §12).
    await save(state, Linking.code, {"email": email})
    await message.answer(
        _(
            "I sent a 6-digit code to {email}. Type it here to link your bookings "
            "(it is valid for 15 minutes).",
            email=email,
        )
    )


@router.message(Linking.code, TEXT)
async def check_code(
    message: Message, state: FSMContext, ctx: Context, known: KnownCustomers | None
) -> None:
    assert message.from_user is not None and message.text is not None
    try:
        linked = await linking.confirm_link_code(
            ctx,
            telegram_user_id=message.from_user.id,
            chat_id=message.chat.id,
            code=message.text.strip(),
        )
    except BookingError as error:
        if error.code != "link_code_invalid":  # already_linked, telegram_taken: final
            await finish(state)
            await message.answer(error_text(error, current_locale()))
            return
        hint = _("Type the code again, or /start to ask for a new one.")
        await message.answer(f"{error_text(error, current_locale())}\n{hint}")
        return
    changed(known, message.from_user)
    await finish(state)
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
