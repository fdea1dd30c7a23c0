"""Events with their rules (policy, deadlines, reminders, extensions, cancellation), their
dates and their tariffs (price, channels, customer types, deadline rule)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from booking.errors import BookingError
from booking.queries import events as figures
from booking.rules.formatting import currency_choices, minor_digits
from booking.services import catalog, catalog_admin, customers
from booking.services.catalog_admin import (
    EventDetail,
    EventSettings,
    SeasonRow,
    TariffRow,
    TariffSettings,
)
from console.web.forms import Form, yes_no
from console.web.labels import labeller, tariff_words
from console.web.pages import Page, guarded

CHANNELS = catalog.CHANNELS
CUSTOMER_TYPES = customers.CUSTOMER_TYPES
OVERRIDES = ("", "firm", "flexible")


def hours(minutes: str) -> str:
    """'4320,1440' -> '72, 24': organizers think of reminders in hours."""
    found = []
    for part in minutes.split(","):
        if part.strip().isdigit():
            value = int(part) / 60
            found.append(str(int(value)) if value.is_integer() else f"{value:g}")
    return ", ".join(found)


def minutes(form: Form, name: str) -> str:
    """'72, 24' -> '4320,1440'; at least one positive number of hours."""
    found = []
    for part in form.get(name).replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            value = round(float(part) * 60)
        except ValueError:
            value = 0
        if value <= 0 or value > 60 * 24 * 365:
            form.error(name, "Enter hours before the deadline, such as 72, 24.")
            return ""
        found.append(value)
    if not found:
        form.error(name, "Enter hours before the deadline, such as 72, 24.")
    return ",".join(str(v) for v in sorted(set(found), reverse=True))


def event_form(page: Page, settings: EventSettings | None = None, **extra: str) -> Form:
    s = settings or EventSettings(
        title="",
        description="",
        season_id=None,
        timezone=page.ctx.settings.timezone,
        policy="firm",
        days_after_booking=7,
        days_before_event=None,
        reminder_offsets=page.ctx.settings.reminder_offsets,
        extension_days=7,
        auto_extend_days=0,
        cancellation_allowed=False,
        max_per_order=10,
    )
    optional = {
        k: str(v) if v is not None else ""
        for k, v in (
            ("season_id", s.season_id),
            ("days_after_booking", s.days_after_booking),
            ("days_before_event", s.days_before_event),
        )
    }
    return Form(
        None,
        page._,
        title=s.title,
        description=s.description,
        timezone=s.timezone,
        policy=s.policy,
        reminder_hours=hours(s.reminder_offsets),
        extension_days=str(s.extension_days),
        auto_extend_days=str(s.auto_extend_days),
        cancellation_allowed="on" if s.cancellation_allowed else "",
        max_per_order=str(s.max_per_order),
        currency=s.currency,
        show_remaining_below=str(s.show_remaining_below),
        picture_url=s.picture_url,
        **optional,
        **extra,
    )


def read_event(form: Form, currency: str = "CHF") -> EventSettings | None:
    """``currency``: the one kept when the form sends none (a client without the select)."""
    settings = EventSettings(
        title=form.text("title", required=True),
        description=form.text("description", max_length=4000),
        season_id=form.integer("season_id", low=1),
        timezone=form.text("timezone", required=True, max_length=60),
        policy=form.choice("policy", catalog_admin.POLICIES),
        days_after_booking=form.integer("days_after_booking", low=0, high=365),
        days_before_event=form.integer("days_before_event", low=0, high=365),
        reminder_offsets=minutes(form, "reminder_hours"),
        extension_days=form.integer("extension_days", required=True, low=1, high=365) or 7,
        auto_extend_days=form.integer("auto_extend_days", required=True, low=0, high=365) or 0,
        cancellation_allowed=form.flag("cancellation_allowed"),
        max_per_order=form.integer("max_per_order", required=True, low=1, high=100) or 10,
        # Checked by the core against Babel's ISO 4217 list ("XYZ" is refused by name).
        currency=(
            form.text("currency", required=True, max_length=12)
            if "currency" in form.values
            else currency
        ),
        show_remaining_below=form.integer("show_remaining_below", low=0, high=1_000_000) or 0,
        # Checked by the core (https only), which names the field when it refuses it.
        picture_url=form.text("picture_url", max_length=catalog.PICTURE_URL_MAX),
    )
    return settings if form.ok else None


def tariff_form(page: Page, row: TariffRow | None = None, *, currency: str = "CHF") -> Form:
    """``currency`` is the event's: the price is typed in it (JPY without decimals)."""
    if row is None:
        return Form(
            None,
            page._,
            hold_channels=list(CHANNELS),
            buy_channels=list(CHANNELS),
            customer_types=list(CUSTOMER_TYPES),
            min_per_booking="1",
            active="on",
        )
    s = row.settings
    return Form(
        None,
        page._,
        version=row.version,
        name=s.name,
        area_id=str(s.area_id),
        price=page.formats.amount_input(s.price_minor, currency),
        hold_channels=list(s.hold_channels),
        buy_channels=list(s.buy_channels),
        customer_types=list(s.customer_types),
        days_after_booking="" if s.days_after_booking is None else str(s.days_after_booking),
        days_before_event="" if s.days_before_event is None else str(s.days_before_event),
        min_per_booking=str(s.min_per_booking),
        max_per_booking="" if s.max_per_booking is None else str(s.max_per_booking),
        active="on" if s.active else "",
    )


def read_tariff(form: Form, currency: str) -> TariffSettings | None:
    settings = TariffSettings(
        name=form.text("name", required=True, max_length=80),
        area_id=form.integer("area_id", required=True, low=1) or 0,
        price_minor=form.amount("price", digits=minor_digits(currency)) or 0,
        hold_channels=form.many("hold_channels", CHANNELS),
        buy_channels=form.many("buy_channels", CHANNELS),
        customer_types=form.many("customer_types", CUSTOMER_TYPES),
        days_after_booking=form.integer("days_after_booking", low=0, high=365),
        days_before_event=form.integer("days_before_event", low=0, high=365),
        active=form.flag("active"),
        min_per_booking=form.integer("min_per_booking", low=1, high=1000) or 1,
        max_per_booking=form.integer("max_per_booking", low=1, high=1000),
    )
    return settings if form.ok else None


def event_field_words(page: Page, seasons: list[SeasonRow]) -> dict[str, dict[str, str]]:
    """Coded values of the event form as a stale form shows them."""
    label = labeller(page._)
    return {
        "policy": {p: label("policy", p) for p in catalog_admin.POLICIES},
        "season_id": {"": page._("None"), **{str(s.id): s.name for s in seasons}},
        "cancellation_allowed": yes_no(page._),
    }


def tariff_field_words(page: Page, detail: EventDetail) -> dict[str, dict[str, str]]:
    label = labeller(page._)
    channels = {c: label("channel", c) for c in CHANNELS}
    return {
        "area_id": {str(a.id): a.name for a in detail.areas},
        "hold_channels": channels,
        "buy_channels": channels,
        "customer_types": {c: label("customer_type", c) for c in CUSTOMER_TYPES},
        "active": yes_no(page._),
    }


async def _saved_event(page: Page, event_id: int, form: Form, typed: EventSettings) -> None:
    """A save refused as stale: show the event's rules as saved now beside the typing."""
    detail = await catalog_admin.event_detail(page.ctx, event_id=event_id)
    seasons = await catalog_admin.list_seasons(page.ctx)
    form.stale(
        event_form(page, detail.event.settings, version=detail.event.version),
        typed=event_form(page, typed),
        words=event_field_words(page, seasons),
    )


async def _saved_tariff(
    page: Page, event_id: int, tariff_id: int, form: Form, typed: TariffSettings
) -> None:
    """The same for a tariff of this event (another event's reads as unknown)."""
    detail = await catalog_admin.event_detail(page.ctx, event_id=event_id)
    row = next((t for t in detail.tariffs if t.id == tariff_id), None)
    if row is None:
        raise BookingError("unknown_tariff")
    currency = detail.event.settings.currency
    form.stale(
        tariff_form(page, row, currency=currency),
        typed=tariff_form(page, TariffRow(row.id, row.area_name, typed), currency=currency),
        words=tariff_field_words(page, detail),
    )


def _not_found(page: Page, exc: BookingError) -> Response:
    return page.render("console/problem.html", status=404, message=page.error(exc))


# -- list and create ----------------------------------------------------------------------------


async def _list(page: Page, form: Form | None = None, *, status: int = 200) -> Response:
    return page.render(
        "console/events/list.html",
        status=status,
        events=await catalog_admin.list_events(page.ctx),
        dates=await figures.date_figures(page.ctx),
        venues=await catalog_admin.list_venues(page.ctx),
        seasons=await catalog_admin.list_seasons(page.ctx),
        currencies=currency_choices(page.staff.language),
        form=form or event_form(page),
    )


@guarded("catalog")
async def events(page: Page) -> Response:
    return await _list(page)


@guarded("catalog")
async def create_event(page: Page) -> Response:
    form = Form(page.form, page._)
    venue_id = form.integer("venue_id", required=True, low=1)
    settings = read_event(form)
    if settings is None or venue_id is None:
        return await _list(page, form, status=400)
    try:
        event_id = await catalog_admin.create_event(
            page.ctx, actor=page.staff.actor(), venue_id=venue_id, settings=settings
        )
    except BookingError as exc:
        form.booking_error(exc, page.error(exc))
        return await _list(page, form, status=400)
    return page.redirect(
        f"/console/events/{event_id}", flash=page._("Event created. Now add its dates and tariffs.")
    )


# -- one event ----------------------------------------------------------------------------------


async def _detail(
    page: Page, event_id: int, *, forms: dict[str, Form] | None = None, status: int = 200
) -> Response:
    try:
        detail: EventDetail = await catalog_admin.event_detail(page.ctx, event_id=event_id)
    except BookingError as exc:
        return page.render("console/problem.html", status=404, message=page.error(exc))
    forms = dict(forms or {})
    forms.setdefault("event", event_form(page, detail.event.settings, version=detail.event.version))
    forms.setdefault("performance", Form(None, page._, time="20:00", policy=""))
    currency = detail.event.settings.currency
    forms.setdefault("tariff", tariff_form(page, currency=currency))
    for tariff in detail.tariffs:
        forms.setdefault(f"tariff-{tariff.id}", tariff_form(page, tariff, currency=currency))
    dates = (await figures.date_figures(page.ctx, event_id=event_id)).get(event_id, ())
    language, rules = page.staff.language, detail.event.settings
    return page.render(
        "console/events/detail.html",
        status=status,
        d=detail,
        forms=forms,
        figures={f.performance_id: f for f in dates},
        tariff_lines={t.id: tariff_words(language, t.settings, rules) for t in detail.tariffs},
        seasons=await catalog_admin.list_seasons(page.ctx),
        currencies=currency_choices(page.staff.language),
        channels=CHANNELS,
        customer_types=CUSTOMER_TYPES,
        overrides=OVERRIDES,
    )


@guarded("catalog")
async def event(page: Page) -> Response:
    return await _detail(page, int(page.request.path_params["event_id"]))


@guarded("catalog")
async def update_event(page: Page) -> Response:
    event_id = int(page.request.path_params["event_id"])
    form = Form(page.form, page._)
    try:
        current = await catalog_admin.event_currency(page.ctx, event_id=event_id)
    except BookingError as exc:
        return _not_found(page, exc)
    settings = read_event(form, current)
    if settings is not None:
        try:
            await catalog_admin.update_event(
                page.ctx,
                actor=page.staff.actor(),
                event_id=event_id,
                expected=form.get("version"),
                settings=settings,
            )
        except BookingError as exc:
            if exc.code == "changed_meanwhile":
                await _saved_event(page, event_id, form, settings)
            else:
                form.booking_error(exc, page.error(exc))
    if not form.ok:
        return await _detail(page, event_id, forms={"event": form}, status=400)
    return page.redirect(f"/console/events/{event_id}", flash=page._("Event saved."))


@guarded("catalog")
async def add_performance(page: Page) -> Response:
    event_id = int(page.request.path_params["event_id"])
    form = Form(page.form, page._)
    detail = await catalog_admin.event_detail(page.ctx, event_id=event_id)
    starts_at = form.moment("day", "time", detail.timezone)
    policy = form.choice("policy", OVERRIDES, required=False)
    if starts_at is not None and starts_at <= page.ctx.clock.now():
        form.error("day", "This date has already passed.")
    if not form.ok or starts_at is None:
        return await _detail(page, event_id, forms={"performance": form}, status=400)
    await catalog.add_performance(
        page.ctx,
        actor=page.staff.actor(),
        event_id=event_id,
        starts_at=starts_at,
        policy=policy or None,
    )
    return page.redirect(f"/console/events/{event_id}", flash=page._("Date added."))


@guarded("catalog")
async def update_performance(page: Page) -> Response:
    event_id = int(page.request.path_params["event_id"])
    form = Form(page.form, page._)
    performance_id = form.integer("performance_id", required=True, low=1)
    policy = form.choice("policy", OVERRIDES, required=False)
    if form.ok and performance_id is not None:
        try:
            await catalog_admin.update_performance(
                page.ctx,
                actor=page.staff.actor(),
                event_id=event_id,
                performance_id=performance_id,
                policy=policy or None,
                on_sale=form.flag("on_sale"),
            )
        except BookingError as exc:
            if exc.code != "unknown_item":
                raise
            return _not_found(page, exc)  # another event's date, or none
        page.flash(page._("Date saved."))
    return page.redirect(f"/console/events/{event_id}")


@guarded("catalog")
async def add_tariff(page: Page) -> Response:
    event_id = int(page.request.path_params["event_id"])
    form = Form(page.form, page._)
    try:
        currency = await catalog_admin.event_currency(page.ctx, event_id=event_id)
    except BookingError as exc:
        return _not_found(page, exc)
    settings = read_tariff(form, currency)
    if settings is not None:
        try:
            await catalog_admin.create_tariff(
                page.ctx, actor=page.staff.actor(), event_id=event_id, settings=settings
            )
        except BookingError as exc:
            form.booking_error(exc, page.error(exc))
    if not form.ok:
        return await _detail(page, event_id, forms={"tariff": form}, status=400)
    return page.redirect(f"/console/events/{event_id}", flash=page._("Tariff added."))


@guarded("catalog")
async def update_tariff(page: Page) -> Response:
    event_id = int(page.request.path_params["event_id"])
    tariff_id = int(page.request.path_params["tariff_id"])
    form = Form(page.form, page._)
    try:
        currency = await catalog_admin.event_currency(page.ctx, event_id=event_id)
    except BookingError as exc:
        return _not_found(page, exc)
    settings = read_tariff(form, currency)
    if settings is not None:
        try:
            await catalog_admin.update_tariff(
                page.ctx,
                actor=page.staff.actor(),
                event_id=event_id,
                tariff_id=tariff_id,
                expected=form.get("version"),
                settings=settings,
            )
        except BookingError as exc:
            if exc.code == "unknown_tariff":
                return _not_found(page, exc)  # another event's tariff, or none
            if exc.code == "changed_meanwhile":
                await _saved_tariff(page, event_id, tariff_id, form, settings)
            else:
                form.booking_error(exc, page.error(exc))
    if not form.ok:
        return await _detail(page, event_id, forms={f"tariff-{tariff_id}": form}, status=400)
    return page.redirect(f"/console/events/{event_id}", flash=page._("Tariff saved."))


routes = [
    Route("/events", events, methods=["GET"]),
    Route("/events", create_event, methods=["POST"]),
    Route("/events/{event_id:int}", event, methods=["GET"]),
    Route("/events/{event_id:int}", update_event, methods=["POST"]),
    Route("/events/{event_id:int}/performances", add_performance, methods=["POST"]),
    Route("/events/{event_id:int}/performance", update_performance, methods=["POST"]),
    Route("/events/{event_id:int}/tariffs", add_tariff, methods=["POST"]),
    Route("/events/{event_id:int}/tariffs/{tariff_id:int}", update_tariff, methods=["POST"]),
]
