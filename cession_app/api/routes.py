"""The resources of /api/v1: thin views over records, dataio, transfers and billing operations."""

from flask import g, jsonify
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from .. import audit, dataio, records, site_settings
from ..billing import operations as billing
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import (
    Account,
    AuditEvent,
    PaymentRequest,
    Service,
    TransferParty,
    TransferRequest,
)
from ..models.services import SERVICE_STATES
from ..models.transfers import CHANGES, DIRECTIONS, END_STATES, OPEN_STATES
from ..transfers import operations as transfers
from ..transfers import wizard
from . import bp, serialize
from .auth import require, reseller_only
from .idempotency import idempotent
from .inputs import (
    choice_arg,
    cursor_arg,
    date_arg,
    json_body,
    limit_arg,
    page,
    record_problem,
    text_arg,
)
from .problems import ApiProblem
from .spec import describe

NOT_FOUND = _l("Not found, or not visible to this API key.")


def _own_account_id():
    """The account a key is bound to, or None for the reseller's key (sees everything)."""
    return g.api_key.account_id


def _listing(query, limit, to_json):
    after = cursor_arg()
    if after is not None:
        query = query.where(query.column_descriptions[0]["entity"].id > after)
    items, next_cursor = page(db.session.scalars(query.limit(limit + 1)).unique(), limit)
    return jsonify({"items": [to_json(i) for i in items], "next": next_cursor})


def _not_found():
    return ApiProblem(404, "not_found", NOT_FOUND)


def _codes(*ids):
    wanted = {i for i in ids if i is not None}
    rows = db.session.execute(select(Account.id, Account.code).where(Account.id.in_(wanted)))
    return dict(rows.all())


# ---------------------------------------------------------------- accounts
def _visible_accounts():
    query = select(Account).order_by(Account.id)
    if _own_account_id() is not None:
        query = query.where(Account.id == _own_account_id())
    return query


@bp.get("/accounts")
@require("read")
@describe(_l("List accounts"), params=("after", "limit"), response="AccountList")
def list_accounts():
    """Accounts in the order they were added; a customer's key sees its own only."""
    return _listing(_visible_accounts(), limit_arg(), serialize.account)


def _account_or_404(code):
    acc = db.session.scalar(_visible_accounts().where(Account.code == code))
    if acc is None:
        raise _not_found()
    return acc


@bp.get("/accounts/<code>")
@require("read")
@describe(_l("Get an account"), response="Account")
def get_account(code):
    """One account by its customer code."""
    return jsonify(serialize.account(_account_or_404(code)))


# ---------------------------------------------------------------- synchronisation (PUT)
def _sync(kind, key, value, object_type):
    """Create or update one record by its external id, with import-data's checks."""
    reseller_only()
    body = json_body()
    if key in body and body[key] != value:
        raise ApiProblem(
            422,
            "id_mismatch",
            _l("The field %(field)s must match the address, or be left out.", field=key),
        )
    body[key] = value
    _record, problems = records.check(kind, body)
    if problems:
        raise record_problem(problems)
    try:
        summary = dataio.import_data({kind: [body]}, force=_force_arg())
    except dataio.DataError as exc:
        db.session.rollback()
        raise ApiProblem(
            422,
            "invalid_record",
            "; ".join(p.split(": ", 1)[-1] for p in exc.problems),
            [
                {"field": None, "code": "conflict", "detail": p.split(": ", 1)[-1]}
                for p in exc.problems
            ],
        ) from None
    counts = summary[kind]
    if counts.created or counts.updated:
        action = "created" if counts.created else "updated"
        audit.record(f"{object_type}_synced", object_type, value, change=action)
    db.session.commit()
    return 201 if counts.created else 200


def _force_arg():
    """``?force=true``: change owner or payer even in an open request (which then fails)."""
    return choice_arg("force", ("true", "false")) == "true"


@bp.put("/accounts/<code>")
@require("sync")
@describe(_l("Create or update an account"), body="AccountRecord", response="Account")
def put_account(code):
    """Create or update the account with this customer code (import-data's checks)."""
    status = _sync("accounts", "code", code, "account")
    return jsonify(serialize.account(_account_or_404(code))), status


# ---------------------------------------------------------------- services
def _visible_services():
    query = select(Service).options(joinedload(Service.owner), joinedload(Service.payer))
    own = _own_account_id()
    if own is not None:
        query = query.where(or_(Service.owner_id == own, Service.payer_id == own))
    return query.order_by(Service.id)


def _account_id_arg(name):
    code = text_arg(name, 32)
    if code is None:
        return None
    return db.session.scalar(select(Account.id).where(Account.code == code)) or -1


@bp.get("/services")
@require("read")
@describe(
    _l("List services"),
    params=("after", "limit", "domain", "owner", "payer", "state"),
    response="ServiceList",
)
def list_services():
    """Services, filtered by domain, owner, payer (customer codes) and state."""
    query = _visible_services()
    domain = text_arg("domain")
    if domain is not None:
        query = query.where(Service.domain == domain)
    for name, column in (("owner", Service.owner_id), ("payer", Service.payer_id)):
        account_id = _account_id_arg(name)
        if account_id is not None:
            query = query.where(column == account_id)
    state = choice_arg("state", SERVICE_STATES)
    if state is not None:
        query = query.where(Service.state == state)
    return _listing(query, limit_arg(), serialize.service)


def _service_or_404(external_id):
    svc = db.session.scalar(_visible_services().where(Service.external_id == external_id))
    if svc is None:
        raise _not_found()
    return svc


@bp.get("/services/<external_id>")
@require("read")
@describe(_l("Get a service"), response="Service")
def get_service(external_id):
    """One service by its id in the billing system."""
    return jsonify(serialize.service(_service_or_404(external_id)))


@bp.put("/services/<external_id>")
@require("sync")
@describe(
    _l("Create or update a service"), params=("force",), body="ServiceRecord", response="Service"
)
def put_service(external_id):
    """Create or update a service by its id (import-data's checks)."""
    status = _sync("services", "id", external_id, "service")
    return jsonify(serialize.service(_service_or_404(external_id))), status


# ---------------------------------------------------------------- payment requests
def _visible_payment_requests():
    query = select(PaymentRequest).options(
        joinedload(PaymentRequest.service), joinedload(PaymentRequest.payer)
    )
    own = _own_account_id()
    if own is not None:
        query = query.where(PaymentRequest.payer_id == own)
    return query.order_by(PaymentRequest.id)


@bp.get("/payment-requests")
@require("read")
@describe(
    _l("List payment requests"),
    params=("after", "limit", "service", "paid"),
    response="PaymentRequestList",
)
def list_payment_requests():
    """Payment requests, filtered by service id and by paid (true/false)."""
    query = _visible_payment_requests()
    service_id = text_arg("service", 64)
    if service_id is not None:
        query = query.join(PaymentRequest.service).where(Service.external_id == service_id)
    paid = choice_arg("paid", ("true", "false"))
    if paid is not None:
        column = PaymentRequest.paid_on
        query = query.where(column.is_not(None) if paid == "true" else column.is_(None))
    return _listing(query, limit_arg(), serialize.payment_request)


def _payment_request_or_404(external_id):
    pr = db.session.scalar(
        _visible_payment_requests().where(PaymentRequest.external_id == external_id)
    )
    if pr is None:
        raise _not_found()
    return pr


@bp.get("/payment-requests/<external_id>")
@require("read")
@describe(_l("Get a payment request"), response="PaymentRequest")
def get_payment_request(external_id):
    """One payment request by its id in the billing system."""
    return jsonify(serialize.payment_request(_payment_request_or_404(external_id)))


@bp.put("/payment-requests/<external_id>")
@require("sync")
@describe(
    _l("Create or update a payment request"), body="PaymentRequestRecord", response="PaymentRequest"
)
def put_payment_request(external_id):
    """Create or update a payment request by its id (import-data's checks)."""
    status = _sync("payment_requests", "id", external_id, "payment_request")
    return jsonify(serialize.payment_request(_payment_request_or_404(external_id))), status


@bp.post("/payment-requests/<external_id>/paid")
@require("sync")
@idempotent
@describe(_l("Mark a payment request paid"), body="PaidBody", response="PaymentRequest")
def mark_paid(external_id):
    """Record the payment (paid_on: a date, default today); unblocks its service's transfer."""
    reseller_only()
    body = json_body()
    pr = _payment_request_or_404(external_id)
    try:
        on = records.optional_date(body.get("paid_on")) or billing.today()
    except records.Invalid as bad:
        raise record_problem([records.field_problem("paid_on", bad)]) from None
    try:
        billing.mark_paid(pr, on, source="api")
    except billing.BillingRefused as refused:
        detail = "; ".join(str(r) for r in refused.reasons)
        raise ApiProblem(409, "refused", detail) from None
    return jsonify(serialize.payment_request(pr))


# ---------------------------------------------------------------- transfers
def _visible_transfers():
    query = select(TransferRequest)
    own = _own_account_id()
    if own is not None:
        parties = select(TransferParty.request_id).where(TransferParty.account_id == own)
        query = query.where(TransferRequest.id.in_(parties))
    return query.order_by(TransferRequest.id)


def _transfer_json(req):
    return serialize.transfer_with_codes(req)


@bp.get("/transfers")
@require("read")
@describe(
    _l("List transfer requests"),
    params=("after", "limit", "state", "account", "domain", "created_from", "created_to"),
    response="TransferList",
)
def list_transfers():
    """Transfer requests by state, account (a party), domain and creation date."""
    query = _visible_transfers()
    state = choice_arg("state", OPEN_STATES + END_STATES)
    if state is not None:
        query = query.where(TransferRequest.state == state)
    account_id = _account_id_arg("account")
    if account_id is not None:
        parties = select(TransferParty.request_id).where(TransferParty.account_id == account_id)
        query = query.where(TransferRequest.id.in_(parties))
    domain = text_arg("domain")
    if domain is not None:
        query = query.where(transfers.with_domain([domain]))
    query = _created_between(query)
    return _listing(query, limit_arg(), _transfer_json)


def _created_between(query):
    from datetime import UTC, datetime, time, timedelta

    start, end = date_arg("created_from"), date_arg("created_to")
    if start is not None:
        query = query.where(TransferRequest.created_at >= datetime.combine(start, time(), UTC))
    if end is not None:
        limit = datetime.combine(end + timedelta(days=1), time(), UTC)
        query = query.where(TransferRequest.created_at < limit)
    return query


def _transfer_or_404(request_id):
    if not (request_id.isascii() and request_id.isdigit() and len(request_id) <= 18):
        raise _not_found()
    req = db.session.scalar(_visible_transfers().where(TransferRequest.id == int(request_id)))
    if req is None:
        raise _not_found()
    return req


@bp.get("/transfers/<request_id>")
@require("read")
@describe(_l("Get a transfer request"), response="Transfer")
def get_transfer(request_id):
    """One transfer request with its services and each party's state."""
    return jsonify(_transfer_json(_transfer_or_404(request_id)))


def _field_error(field, code, detail):
    return ApiProblem(422, code, detail, [{"field": field, "code": code, "detail": str(detail)}])


def _initiator(body):
    own = _own_account_id()
    code = body.get("account")
    if own is not None:
        acc = db.session.get(Account, own)
        if code is not None and code != acc.code:
            raise _field_error(
                "account",
                "not_own_account",
                _l("This API key can act only for its own account %(code)s.", code=acc.code),
            )
        return acc
    if not isinstance(code, str):
        raise _field_error(
            "account", "missing", _l("Say for which account (its customer code) to act.")
        )
    acc = db.session.scalar(select(Account).where(Account.code == code))
    if acc is None:
        raise _field_error(
            "account",
            "unknown_account",
            _l("No account has the customer code %(code)s.", code=records.show(code)),
        )
    return acc


def _reasons_problem(found):
    errors = []
    for service, reasons in found.items():
        for reason in reasons:
            entry = {"field": "services", "code": reason.code, "detail": str(reason)}
            entry["service"] = service.external_id if service is not None else None
            errors.append(entry)
    return ApiProblem(422, "transfer_refused", "; ".join(e["detail"] for e in errors), errors)


def _transfer_input(body):
    """The checked fields of a new transfer request (same values as the wizard's)."""
    problems = []
    checks = {
        "direction": records.choice(DIRECTIONS),
        "change": records.choice(CHANGES),
        "domain": records.domain,
        "other": records.ident(32),
    }
    values = {"change": "both"} if "change" not in body else {}
    for name, check in checks.items():
        if name not in body:
            if name not in values:
                problems.append(records.Problem(name, "missing", str(_missing(name))))
            continue
        try:
            values[name] = check(body[name])
        except records.Invalid as bad:
            problems.append(records.field_problem(name, bad))
    values["services"] = _service_ids(body.get("services"), problems)
    values["more_domains"] = _more_domains(body.get("more_domains", []), problems)
    notify = body.get("notify_email")
    if notify is not None and not isinstance(notify, str):
        problems.append(records.field_problem("notify_email", _type_error(notify)))
    values["notify_email"] = notify
    unknown = set(body) - {*checks, "services", "more_domains", "notify_email", "account"}
    for name in sorted(unknown):
        problems.append(
            records.Problem(
                records.safe_text(name[:60]),
                "unknown_field",
                str(_l('unknown field "%(field)s"', field=records.safe_text(name[:60]))),
            )
        )
    if problems:
        raise record_problem(problems)
    return values


def _missing(name):
    return _l('field "%(field)s" is missing', field=name)


def _type_error(value):
    return records.Invalid(
        "type", str(_l("must be a string, not %(value)s", value=records.show(value)))
    )


def _more_domains(raw, problems):
    """Further business cases of the same other party (the wizard's "Add another domain")."""
    if not isinstance(raw, list) or len(raw) > wizard.MAX_CASES - 1:
        detail = _l(
            'field "more_domains" must be a list of at most %(count)s domains',
            count=wizard.MAX_CASES - 1,
        )
        problems.append(records.Problem("more_domains", "more_domains", str(detail)))
        return []
    domains = []
    for value in raw:
        try:
            domains.append(records.domain(value))
        except records.Invalid as bad:
            problems.append(records.field_problem("more_domains", bad))
    return domains


def _service_ids(raw, problems):
    if not isinstance(raw, list) or not raw or len(raw) > 100:
        problems.append(
            records.Problem(
                "services",
                "services",
                str(_l('field "services" must be a list of 1 to 100 service ids')),
            )
        )
        return []
    check = records.ident(64)
    ids = []
    for value in raw:
        try:
            ids.append(check(value))
        except records.Invalid as bad:
            problems.append(records.field_problem("services", bad))
    return ids


@bp.post("/transfers")
@require("transfers")
@idempotent
@describe(_l("Create a transfer request"), body="TransferBody", response="Transfer")
def create_transfer():
    """Create a request for an account, with the wizard's rules; confirmation mails go out."""
    body = json_body()
    initiator = _initiator(body)
    values = _transfer_input(body)
    other = wizard.find_counterparty(values["other"], None, None)
    state = {"direction": values["direction"], "domain": values["domain"]}
    state["other_id"] = other.id if other is not None else None
    case = wizard.load_case(initiator, state)
    if case.problems:
        raise _reasons_problem({None: case.problems})
    refused = wizard.more_domains_problems(initiator, state, values["more_domains"])
    if refused:
        raise _reasons_problem(refused)
    state["more_domains"] = values["more_domains"]
    case = wizard.load_case(initiator, state)
    by_external = {s.external_id: s for s in case.services}
    unknown = [i for i in values["services"] if i not in by_external]
    if unknown:
        raise _field_error(
            "services",
            "unknown_service",
            _l(
                "These services are not part of this business case: %(ids)s",
                ids=", ".join(records.show(i) for i in unknown),
            ),
        )
    service_ids = [by_external[i].id for i in values["services"]]
    found = wizard.selection_problems(case, service_ids, values["change"], initiator)
    if found:
        raise _reasons_problem(found)
    try:
        req = transfers.create_request(
            initiator,
            direction=values["direction"],
            domain=values["domain"],
            other=other,
            service_ids=service_ids,
            change=values["change"],
            notify_email=values["notify_email"],
            submit_key=g.get("api_submit_key"),
            more_domains=values["more_domains"],
        )
    except transfers.TransferRefused as refused:
        raise _reasons_problem(refused.reasons) from None
    return jsonify(_transfer_json(transfers.load_request(req.id))), 201


@bp.post("/transfers/<request_id>/cancel")
@require("transfers")
@idempotent
@describe(_l("Cancel a transfer request"), response="Transfer")
def cancel_transfer(request_id):
    """The initiator (or the reseller for it) withdraws an open request."""
    req = _transfer_or_404(request_id)
    own = _own_account_id()
    actor = db.session.get(Account, own if own is not None else req.initiator_id)
    try:
        transfers.cancel(req, actor)
    except transfers.ActionRefused as refused:
        raise ApiProblem(409, "refused", refused.message) from None
    return jsonify(_transfer_json(transfers.load_request(req.id)))


@bp.post("/transfers/<request_id>/approve")
@require("transfers")
@idempotent
@describe(_l("Approve a transfer request"), response="Transfer")
def approve_transfer(request_id):
    """Where the provider approves confirmed requests: approve one (the worker executes it)."""
    reseller_only()
    req = _transfer_or_404(request_id)
    if not site_settings.get("REQUIRE_APPROVAL"):
        raise ApiProblem(
            409,
            "approval_off",
            _l("Approval is off: confirmed requests are executed without waiting for it."),
        )
    not_waiting = ApiProblem(
        409,
        "not_awaiting_approval",
        _l("This request is not waiting for approval (its state: %(state)s).", state=req.state),
    )
    if req.state != "approval":
        raise not_waiting
    try:
        transfers.approve(req, None)
    except transfers.ActionRefused:
        raise not_waiting from None
    return jsonify(_transfer_json(transfers.load_request(req.id)))


# ---------------------------------------------------------------- events
def _visible_events():
    query = select(AuditEvent).order_by(AuditEvent.id)
    own = _own_account_id()
    if own is not None:
        mine = select(TransferParty.request_id).where(TransferParty.account_id == own)
        transfer_ids = [str(i) for i in db.session.scalars(mine)]
        services = select(Service.external_id).where(
            or_(Service.owner_id == own, Service.payer_id == own)
        )
        query = query.where(
            or_(
                AuditEvent.actor_id == own,
                (AuditEvent.object_type == "transfer") & AuditEvent.object_id.in_(transfer_ids),
                (AuditEvent.object_type == "service") & AuditEvent.object_id.in_(services),
            )
        )
    return query


@bp.get("/events")
@require("read")
@describe(_l("Events since a cursor"), params=("after", "limit", "type"), response="EventList")
def list_events():
    """Every change as an event, oldest first: poll with ?after= the last page's next."""
    query = _visible_events()
    kind = text_arg("type", 64)
    if kind is not None:
        query = query.where(AuditEvent.action == kind)
    after = cursor_arg()
    if after is not None:
        query = query.where(AuditEvent.id > after)
    limit = limit_arg()
    items = db.session.scalars(query.limit(limit + 1)).all()
    events, _next = page(items, limit)
    codes = _codes(*[e.actor_id for e in events])
    last = str(events[-1].id) if events else (str(after) if after is not None else None)
    return jsonify({"items": [serialize.event(e, codes) for e in events], "next": last})
