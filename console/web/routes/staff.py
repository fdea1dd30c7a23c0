"""Staff accounts (admins only): create, change role, language or name, switch off, reset a
password. The last active admin cannot be demoted or switched off."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from booking.errors import BookingError
from booking.services import staff_admin
from booking.services.staff_admin import StaffAccount
from console.web.forms import Form, yes_no
from console.web.labels import labeller
from console.web.pages import ROLES, Page, guarded

LANGUAGES = ("en", "fr")


def account_form(page: Page, account: StaffAccount) -> Form:
    return Form(
        None,
        page._,
        version=account.version,
        name=account.name,
        role=account.role,
        language=account.language,
        active="on" if account.active else "",
    )


async def _saved_account(page: Page, staff_id: int, form: Form) -> None:
    """A save refused as stale: the account as saved now beside the typing (see Form.stale)."""
    account = await staff_admin.get_account(page.ctx, staff_id=staff_id)
    if account is None:
        raise BookingError("unknown_item")
    typed = Form(
        None,
        page._,
        name=form.get("name").strip()[:200],
        role=form.get("role"),
        language=form.get("language"),
        active="on" if form.flag("active") else "",
    )
    label = labeller(page._)
    words = {
        "role": {r: label("role", r) for r in ROLES},
        "language": {"en": "English", "fr": "Français"},
        "active": yes_no(page._),
    }
    form.stale(account_form(page, account), typed=typed, words=words)


async def _list(page: Page, form: Form | None = None, *, status: int = 200) -> Response:
    return page.render(
        "console/staff/list.html",
        status=status,
        accounts=await staff_admin.list_accounts(page.ctx),
        form=form or Form(None, page._, role="box_office", language="fr"),
        roles=ROLES,
        languages=LANGUAGES,
    )


@guarded("staff")
async def staff_list(page: Page) -> Response:
    return await _list(page)


@guarded("staff")
async def create(page: Page) -> Response:
    form = Form(page.form, page._)
    email = form.text("email", required=True, max_length=254)
    name = form.text("name")
    role = form.choice("role", ROLES)
    language = form.choice("language", LANGUAGES)
    password = form.get("password")
    form.values["password"] = ""
    if len(password) < 10:
        form.error("password", "At least 10 characters.")
    if form.ok:
        try:
            await staff_admin.create_account(
                page.ctx,
                actor=page.staff.actor(),
                email=email,
                password=password,
                role=role,
                name=name,
                language=language,
            )
        except BookingError as exc:
            if exc.code == "email_taken":  # the core's words speak of customers
                form.error("email", "An account with this email already exists.")
            else:
                form.booking_error(exc, page.error(exc))
    if not form.ok:
        return await _list(page, form, status=400)
    return page.redirect("/console/staff", flash=page._("Account created."))


async def _detail(
    page: Page, staff_id: int, forms: dict[str, Form] | None = None, *, status: int = 200
) -> Response:
    account = await staff_admin.get_account(page.ctx, staff_id=staff_id)
    if account is None:
        return page.render(
            "console/problem.html", status=404, message=page.error(BookingError("unknown_item"))
        )
    forms = dict(forms or {})
    forms.setdefault("account", account_form(page, account))
    forms.setdefault("password", Form(None, page._))
    return page.render(
        "console/staff/detail.html",
        status=status,
        account=account,
        forms=forms,
        roles=ROLES,
        languages=LANGUAGES,
    )


@guarded("staff")
async def detail(page: Page) -> Response:
    return await _detail(page, int(page.request.path_params["staff_id"]))


@guarded("staff")
async def update(page: Page) -> Response:
    staff_id = int(page.request.path_params["staff_id"])
    form = Form(page.form, page._)
    name = form.text("name")
    role = form.choice("role", ROLES)
    language = form.choice("language", LANGUAGES)
    active = form.flag("active")
    if staff_id == page.staff.id and not active:
        form.error("active", "You cannot switch off your own account.")
    if form.ok:
        try:
            await staff_admin.update_account(
                page.ctx,
                actor=page.staff.actor(),
                staff_id=staff_id,
                expected=form.get("version"),
                name=name,
                role=role,
                language=language,
                active=active,
            )
        except BookingError as exc:
            if exc.code == "changed_meanwhile":
                await _saved_account(page, staff_id, form)
            else:
                form.booking_error(exc, page.error(exc))
    if not form.ok:
        return await _detail(page, staff_id, {"account": form}, status=400)
    return page.redirect(f"/console/staff/{staff_id}", flash=page._("Account saved."))


@guarded("staff")
async def password(page: Page) -> Response:
    staff_id = int(page.request.path_params["staff_id"])
    form = Form(page.form, page._)
    new = form.get("password")
    if new != form.get("repeat"):
        form.error("repeat", "The two passwords differ.")
    form.values["password"] = form.values["repeat"] = ""
    if form.ok:
        try:
            keep = page.session.token if staff_id == page.staff.id else ""
            await staff_admin.set_password(
                page.ctx, actor=page.staff.actor(), staff_id=staff_id, password=new, keep=keep
            )
        except BookingError as exc:
            form.booking_error(exc, page.error(exc), field="password")
    if not form.ok:
        return await _detail(page, staff_id, {"password": form}, status=400)
    return page.redirect(
        f"/console/staff/{staff_id}",
        flash=page._("Password changed; the account's other sessions have ended."),
    )


routes = [
    Route("/staff", staff_list, methods=["GET"]),
    Route("/staff", create, methods=["POST"]),
    Route("/staff/{staff_id:int}", detail, methods=["GET"]),
    Route("/staff/{staff_id:int}", update, methods=["POST"]),
    Route("/staff/{staff_id:int}/password", password, methods=["POST"]),
]
