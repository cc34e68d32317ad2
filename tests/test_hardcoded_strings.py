"""No hard-coded English: every page and every mail, rendered in a pseudo-locale.

The pseudo-locale catalog (tests/i18n_support.py) translates each freshly extracted message
into itself between markers (⟦...⟧). Rendered for an account of that language, any Latin
word left outside the markers and the test's own data never went through gettext.

The tables below say how to reach every GET page (PAGES) and produce every mail (MAILS).
A new endpoint or mail template fails test_every_*_is_covered until it is added here.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from importlib.metadata import version
from pathlib import Path

import pyotp
import pytest
from flask import template_rendered, url_for
from flask_babel import force_locale
from jinja2 import ChoiceLoader, FileSystemLoader

from cession_app import i18n, worker
from cession_app.accounts import operations as accounts
from cession_app.accounts.forms import timezone_choices
from cession_app.billing import operations as billing
from cession_app.config import LANGUAGES
from cession_app.extensions import db
from cession_app.models import (
    Account,
    AuditEvent,
    HolderChange,
    OutboxMessage,
    Service,
    TaxDocumentRequest,
    WebhookDelivery,
)
from cession_app.models.base import utcnow
from cession_app.protection import operations as protection
from cession_app.services import operations as services_operations
from cession_app.transfers import operations
from tests import factories
from tests.i18n_support import (
    PSEUDO,
    TRANSLATIONS,
    build_pseudo_catalog,
    html_leaks,
    leaked_words,
    mark,
    text_leaks,
)

TEMPLATES = Path(i18n.__file__).parent / "templates"


# ---------------------------------------------------------------- app in the pseudo-locale
@pytest.fixture(scope="session")
def pseudo_translations(tmp_path_factory):
    """A translations directory holding only the pseudo-locale's catalog."""
    return build_pseudo_catalog(tmp_path_factory.mktemp("pseudo-locale"))


@pytest.fixture
def app_config(app_config, pseudo_translations):
    """The test app, offering the pseudo-locale; no MAIL_SERVER, and the dev mailbox on."""
    app_config.update(
        MAIL_SERVER="",
        DEV_MAILBOX=True,
        BASE_URL="http://127.0.0.1:5000",
        LANGUAGES=(*LANGUAGES, PSEUDO),
        BABEL_TRANSLATION_DIRECTORIES=f"{TRANSLATIONS};{pseudo_translations}",
    )
    return app_config


# ---------------------------------------------------------------- the data of the walk
@dataclass
class World:
    """What the walk shows: the accounts, services and requests it creates, and their data."""

    me: Account
    other: Account
    payer: Account
    web: Service
    shop: Service
    paid: Service
    request: object
    party: object
    staff: Account = None
    requests: dict = field(default_factory=dict)  # state -> a request that reached it
    services: dict = field(default_factory=dict)  # name -> a further service of the walk
    documents: dict = field(default_factory=dict)  # name -> a payment request
    runs: dict = field(default_factory=dict)  # wizard runs started by the walk's client
    data: set = field(default_factory=set)


def build_world(make):
    """Accounts in the pseudo-locale, services in each role and state, transfer requests in
    every state (reached through the real operations and the worker), billing documents."""
    me = make.account(
        "novak",
        language=PSEUDO,
        name="Jan Novák",
        vat_id="CZ8001011234",
        billing_address="Dlouhá 1",
    )
    other = make.account("svoboda", language=PSEUDO, name="Eva Svobodová")
    payer = make.account("kowalski", language=PSEUDO, name="Piotr Kowalski")
    staff = make.account("dvorak", language=PSEUDO, name="Petr Dvořák", staff=True)
    web = make.service(me, domain="novak.cz", kind="webhosting", payer=payer)
    shop = make.service(me, domain="novak.cz", kind="eshop")
    make.payment_request(shop, amount="1234.50", currency="CZK")
    make.service(me, domain="dvorak.cz", kind="domain", state="terminating")
    paid = make.service(other, domain="svoboda.cz", kind="email", payer=me)
    request = operations.create_request(
        me,
        direction="push",
        domain="novak.cz",
        other=other,
        service_ids=[web.id],
        change="both",
        notify_email="info@novak.cz",
    )
    party = next(p for p in request.parties if p.account_id == me.id)
    world = World(me, other, payer, web, shop, paid, request, party, staff=staff)
    _wizard_services(world, make)
    _billing_documents(world, make)
    _ended_requests(world, make)
    world.data = _data_values(world) | STAFF_TEXTS
    return world


# What staff type in the walk (reasons, references, addresses): data, never translated.
STAFF_TEXTS = {
    "Phone call",
    "Dead mailbox",
    "ID card",
    "Asked by phone",
    "new@novak.cz",
    "new@svoboda.cz",
    f"Werkzeug/{version('werkzeug')}",  # the test client's device, shown on the timelines
}


def _wizard_services(w, make):
    """More services of novak.cz: two that may move, two that may not (for the wizard)."""
    w.services["domain"] = make.service(w.me, domain="novak.cz", kind="domain")
    w.services["mail"] = make.service(w.me, domain="novak.cz", kind="email", payer=w.payer)
    foreign = make.service(w.me, domain="novak.cz", kind="email", payer=w.payer, days=20)
    make.payment_request(foreign, amount="99.00", currency="EUR")  # paid by Piotr Kowalski
    ending = make.service(w.me, domain="novak.cz", kind="webhosting")
    services_operations.terminate(ending, w.me)
    # Further business cases: novak.eu joins a wizard run, novak.pl and novak.sk a request.
    w.services["eu"] = make.service(w.me, domain="novak.eu", kind="domain")
    w.services["pl"] = make.service(w.me, domain="novak.pl", kind="domain")
    w.services["sk"] = make.service(w.me, domain="novak.sk", kind="email")


def _billing_documents(w, make):
    """Paid and unpaid payment requests of the services ``me`` pays."""
    w.documents["unpaid"] = w.shop.payment_requests[0]
    w.documents["paid"] = make.payment_request(w.paid, amount="450.00", currency="CZK")
    billing.mark_paid(w.documents["paid"], billing.today(), actor=w.staff)
    w.documents["staff"] = make.payment_request(w.paid, amount="10.00", currency="CZK")


def _answer(request, account, confirm=True):
    party = request.party_for(account.id)
    if confirm:
        return operations.confirm(request, party)
    return operations.decline(request, party)


def _ended_requests(w, make):
    """Requests in each state: open ones to act on, and every end state a request reaches."""
    me, other = w.me, w.other
    # Executed: novak takes over a service Eva Svobodová paid; novak may ask for tax documents.
    taken = make.service(other, domain="svobodova.cz", kind="webhosting")
    payments = [make.payment_request(taken, amount="300.00") for _ in range(4)]
    payments[3].payer_id = me.id  # made out to novak already: the offer says why not
    for pr in payments:
        billing.mark_paid(pr, utcnow().date(), actor=w.staff)
    executed = _pushed(me, other, taken, direction="pull")
    _answer(executed, other)
    _answer(executed, me)
    worker.run_once()
    with force_locale(me.language):
        billing.request_tax_document(executed, payments[0], me)
        done = billing.request_tax_document(executed, payments[1], me)
    billing.mark_tax_document_done(done, actor=w.staff)
    w.documents["offered"] = payments[2]
    # Failed: confirmed by both, then a payment request is issued and left unpaid.
    doomed = make.service(me, domain="novak.net", kind="webhosting")
    failed = _pushed(me, other, doomed)
    _answer(failed, me)
    _answer(failed, other)
    make.payment_request(doomed, amount="75.00", currency="EUR")
    worker.run_once()
    # Declined by Eva Svobodová; cancelled by novak; expired unanswered.
    declined = _pushed(me, other, make.service(me, domain="novak.eu"))
    _answer(declined, other, confirm=False)
    cancelled = _pushed(
        me, other, make.service(me, domain="novak.org"), notify_email="info@novak.cz"
    )
    operations.cancel(cancelled, me)
    expired = _pushed(me, other, make.service(me, domain="novak.info"))
    expired.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    operations.expire_due()
    # Open, waiting for novak: Eva Svobodová hands over a service of hers.
    offered = _pushed(other, me, make.service(other, domain="svoboda.eu", kind="email"))
    worker.run_once()
    w.requests.update(
        executed=executed,
        failed=failed,
        declined=declined,
        cancelled=cancelled,
        expired=expired,
        offered=offered,
    )
    for state in ("executed", "failed", "declined", "cancelled", "expired"):
        db.session.refresh(w.requests[state])
        assert w.requests[state].state == state, (state, w.requests[state].state)


def _pushed(initiator, other, service, direction="push", **kwargs):
    return operations.create_request(
        initiator,
        direction=direction,
        domain=service.domain,
        other=other,
        service_ids=[service.id],
        change="both",
        **kwargs,
    )


def _data_values(world):
    """Names, codes, domains, ids ...: shown as they are, never translated."""
    values = {c.value for c in timezone_choices()}
    values |= {i18n.language_name(code) for code in (*LANGUAGES, PSEUDO)}
    for account in db.session.scalars(db.select(Account)):
        values |= {account.name, account.code, account.number, account.login, account.email}
        values |= {account.billing_name, account.billing_address, account.vat_id}
    for service in db.session.scalars(db.select(Service)):
        values |= {service.external_id, service.domain}
        for pr in service.payment_requests:
            values |= {pr.external_id, pr.currency}
    return values


# ---------------------------------------------------------------- the pages
@dataclass(frozen=True)
class Page:
    """How to open an endpoint: its URL values, who opens it, the status it answers.

    ``login``: another account of the world opens it (e.g. staff); ``setup(client, w)``
    prepares what the URL needs (a wizard run) with the client that opens the page.
    """

    values: Callable = lambda w: {}
    status: int = 200
    anonymous: bool = False
    login: str = ""
    setup: Callable | None = None
    skip: str = ""


def _wizard_run(client, w, key="push"):
    """A push run of the walk's client, past step 2 (two services chosen): its id."""
    if key not in w.runs:
        response = client.post(
            "/transfers/wizard/push", data={"domain": "novak.cz", "code": w.other.code}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        run = response.headers["Location"].removesuffix("/services")
        response = client.post(
            f"{run}/services",
            data={
                "services": [w.services["domain"].id, w.services["mail"].id],
                "change": "both",
                "notify_email": "info@novak.cz",
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        w.runs[key] = run.rsplit("/", 1)[-1]
    return w.runs[key]


def _run(w):
    return {"run_id": w.runs["push"]}


def _wizard_run_several(client, w):
    """A push run over novak.cz and novak.eu, past step 2: its id."""
    if "several" not in w.runs:
        run = f"/transfers/wizard/run/{_wizard_run(client, w, key='several-base')}"
        client.post(f"{run}/services", data={"add_domain": "1", "change": "both"})
        response = client.post(f"{run}/add-domain", data={"domain": "novak.eu"})
        assert response.status_code == 302, response.get_data(as_text=True)
        chosen = [w.services[key].id for key in ("domain", "mail", "eu")]
        response = client.post(f"{run}/services", data={"services": chosen, "change": "both"})
        assert response.status_code == 302, response.get_data(as_text=True)
        w.runs["several"] = run.rsplit("/", 1)[-1]
    return w.runs["several"]


def _run_several(w):
    return {"run_id": w.runs["several"]}


def _several_request(client, w):
    """A push request over novak.pl and novak.sk (made once)."""
    if "several" not in w.requests:
        w.requests["several"] = operations.create_request(
            w.me,
            direction="push",
            domain="novak.pl",
            more_domains=["novak.sk"],
            other=w.other,
            service_ids=[w.services["pl"].id, w.services["sk"].id],
            holder_change=True,
        )


def _detail(state):
    def values(w):
        request = w.request if state == "awaiting" else w.requests[state]
        return {"request_id": request.id}

    return Page(values=values)


def _link(request, account):
    return {
        "request_id": request.id,
        "token": operations.confirm_token(request, request.party_for(account.id)),
    }


def _email_link(w, purpose):
    from cession_app import tokens

    print_ = tokens.fingerprint(w.me.id, w.me.email)
    payload = {"a": w.me.id, "e": "jan@new.example", "o": "jan@old.example", "f": print_}
    return {"token": tokens.make_token(purpose, payload)}


def _password_link(w, purpose):
    return {"token": accounts.password_token(w.other, purpose)}


PAGES = {
    "static": Page(skip="files, not pages"),
    # The API: JSON for programs, in the language of Accept-Language (tests/api).
    **{
        f"api.{name}": Page(skip="JSON: tests/api")
        for name in (
            "get_account get_payment_request get_service get_transfer list_accounts list_events"
            " list_payment_requests list_services list_transfers openapi_json"
        ).split()
    },
    "api.reference": Page(anonymous=True),
    "health.healthz": Page(skip="JSON for monitoring: tests/test_health.py", status=503),
    "brand_stylesheet": Page(skip="a stylesheet (the brand's colour), not a page"),
    "accounts.home": Page(status=302),  # redirects: My services or the log-in page
    "accounts.login": Page(anonymous=True),
    "accounts.my_data": Page(),
    "accounts.forgot_password": Page(anonymous=True),
    "accounts.login_code": Page(anonymous=True, status=302),  # no password given: log-in page
    "accounts.two_factor_setup": Page(),
    "accounts.sso": Page(anonymous=True, status=404),  # off: SSO_SECRET is not set
    "accounts.oidc_start": Page(anonymous=True, status=404),  # off: OIDC_ISSUER is not set
    "accounts.oidc_callback": Page(anonymous=True, status=404),
    "accounts.reset_password": [
        Page(values=lambda w: _password_link(w, accounts.RESET), anonymous=True),
        Page(values=lambda w: {"token": "x"}, anonymous=True, status=400),
    ],
    "accounts.confirm_email": Page(values=lambda w: _email_link(w, accounts.EMAIL_CHANGE)),
    "accounts.undo_email": Page(values=lambda w: _email_link(w, accounts.EMAIL_UNDO)),
    "accounts.accept_invitation": Page(
        values=lambda w: _password_link(w, accounts.INVITATION), anonymous=True
    ),
    "services.index": Page(),
    "services.detail": [
        Page(values=lambda w: {"external_id": w.web.external_id}),  # as owner
        Page(values=lambda w: {"external_id": w.paid.external_id}),  # as payer
    ],
    "services.terminate": [
        Page(values=lambda w: {"external_id": w.shop.external_id}),  # the confirmation step
        Page(values=lambda w: {"external_id": w.web.external_id}),  # locked: says why not
    ],
    "transfers.index": Page(),
    "transfers.decline": Page(values=lambda w: {"request_id": w.request.id}),
    "transfers.cancel": Page(values=lambda w: {"request_id": w.request.id}),
    "transfers.respond_decline": Page(values=lambda w: _link(w.request, w.me)),
    "transfers.detail": [
        _detail(state)  # executed: with the tax-document offer for its new owner (novak)
        for state in ("awaiting", "offered", "executed", "failed", "declined", "cancelled")
    ]
    + [
        Page(values=lambda w: {"request_id": w.requests["expired"].id}, login="dvorak"),
        Page(values=lambda w: {"request_id": w.requests["several"].id}, setup=_several_request),
    ],
    "transfers.respond": [
        Page(values=lambda w: _link(w.request, w.me)),  # logged in
        Page(values=lambda w: _link(w.request, w.other), login="dvorak"),  # someone else's
        Page(values=lambda w: _link(w.requests["offered"], w.me), anonymous=True),
        Page(values=lambda w: _link(w.requests["declined"], w.me), anonymous=True, status=410),
    ],
    "transfers.wizard_start": [
        Page(values=lambda w: {"direction": "push"}),
        Page(values=lambda w: {"direction": "pull"}),
    ],
    "transfers.wizard_party": Page(values=_run, setup=_wizard_run),
    "transfers.wizard_services": [
        Page(values=_run, setup=_wizard_run),  # with why not
        Page(values=_run_several, setup=_wizard_run_several),  # two business cases
    ],
    "transfers.wizard_review": [
        Page(values=_run, setup=_wizard_run),  # with the WHOIS notice
        Page(values=_run_several, setup=_wizard_run_several),  # a holder change per domain
    ],
    "transfers.wizard_add_domain": Page(values=_run, setup=_wizard_run),
    "transfers.record_pdf": Page(skip="a PDF: tests/test_transfer_record.py reads its text"),
    "protection.index": [
        Page(),  # not locked
        Page(login="svoboda", setup=lambda c, w: _locked(w.other, unlocking=False)),
        Page(login="kowalski", setup=lambda c, w: _locked(w.payer, unlocking=True)),
    ],
    "holder.index": [
        Page(login="dvorak", setup=lambda c, w: _holder_tasks(w)),
        Page(
            values=lambda w: {"state": "all"}, login="dvorak", setup=lambda c, w: _holder_tasks(w)
        ),
    ],
    "billing.index": Page(),  # unpaid and paid rows, the tax-document requests
    "billing.document": [
        Page(values=lambda w: {"external_id": w.documents["unpaid"].external_id}),
        Page(values=lambda w: {"external_id": w.documents["paid"].external_id}),
        Page(values=lambda w: {"external_id": w.documents["paid"].external_id}, login="dvorak"),
    ],
    "billing.staff": Page(login="dvorak", status=301),  # moved to the staff console
    "billing.staff_outbox": Page(login="dvorak", status=301),
    "staff.index": Page(login="dvorak"),  # unpaid requests; the tax-document requests
    "staff.outbox": Page(login="dvorak", setup=lambda c, w: _mail_trouble(w)),
    "staff.search": [
        Page(login="dvorak"),
        Page(login="dvorak", values=lambda w: {"q": "novak.cz"}),  # customers, requests, ...
        Page(login="dvorak", values=lambda w: {"q": w.documents["unpaid"].external_id}),
        Page(login="dvorak", values=lambda w: {"q": "nothing-like-this"}),
    ],
    "staff.customer": Page(login="dvorak", values=lambda w: {"code": w.me.code}),
    "staff.transfer": [
        Page(login="dvorak", values=lambda w: {"request_id": w.request.id}),
        Page(login="dvorak", values=lambda w: {"request_id": w.requests["failed"].id}),
    ],
    "staff.audit_trail": [
        Page(login="dvorak"),
        Page(login="dvorak", values=lambda w: {"account": w.me.code, "request": "x"}),
    ],
    "staff.audit_csv": Page(skip="CSV, not a page"),
    "staff.approvals": Page(login="dvorak"),
    "staff.settings": Page(login="dvorak"),
    "staff.api_keys": Page(login="dvorak", setup=lambda c, w: _integrations(w)),
    "staff.api_key_revoke": Page(
        login="dvorak", values=lambda w: {"key_id": _integrations(w)["key"].id}
    ),
    "staff.webhooks_list": Page(login="dvorak", setup=lambda c, w: _integrations(w)),
    "staff.webhook": Page(  # with a delivery sent, one failing, one waiting
        login="dvorak", values=lambda w: {"endpoint_id": _integrations(w)["endpoint"].id}
    ),
    "staff.webhook_delete": Page(
        login="dvorak", values=lambda w: {"endpoint_id": _integrations(w)["endpoint"].id}
    ),
    "dev.mailbox": Page(),
    "dev.message": Page(values=lambda w: {"message_id": _outbox(w, "confirm_request")[0].id}),
    "dev.message_html": Page(values=lambda w: {"message_id": _outbox(w, "confirm_request")[0].id}),
}


def _integrations(w):
    """An API key (used once) and a webhook endpoint with deliveries in each state."""
    if "integrations" not in w.runs:
        from cession_app.api.auth import create_key
        from cession_app.webhooks import operations as webhooks

        key, _secret = create_key("billing", ["read", "sync"])
        key.last_used_at = utcnow()
        endpoint = webhooks.create_endpoint("https://billing.example/hook", ["*"])
        events = db.session.scalars(db.select(AuditEvent).limit(3)).all()
        answers = [("sent", 200, None), ("pending", None, "timed out"), ("failed", 500, None)]
        for event, (status, code, error) in zip(events, answers, strict=True):
            db.session.add(
                WebhookDelivery(
                    endpoint=endpoint,
                    event=event,
                    status=status,
                    attempts=2,
                    last_status=code,
                    last_error=error,
                    finished_at=None if status == "pending" else utcnow(),
                )
            )
        db.session.commit()
        w.runs["integrations"] = {"key": key, "endpoint": endpoint}
        w.data |= {"billing"}
    return w.runs["integrations"]


def _integration_post(path, **data):
    def send(client, w):
        found = _integrations(w)
        url = path.format(key=found["key"].id, endpoint=found["endpoint"].id)
        return _post(url, **data)(client, w)

    return send


def _redeliver(client, w):
    endpoint = _integrations(w)["endpoint"]
    delivery = db.session.scalars(db.select(WebhookDelivery).filter_by(endpoint=endpoint)).first()
    return _post(f"/staff/webhooks/deliveries/{delivery.id}/redeliver")(client, w)


def _holder_tasks(w):
    """Holder changes of the executed request: one open, one done, one refused."""
    request = w.requests["executed"]
    request.holder_change = True
    domain = w.services["domain"]
    for state, reason in (("open", None), ("done", None), ("refused", mark("reason"))):
        db.session.add(
            HolderChange(
                request_id=request.id,
                service_id=domain.id,
                domain="novak.cz",
                new_holder_id=w.other.id,
                state=state,
                reason=reason,
            )
        )
    db.session.commit()


def _locked(account, unlocking):
    """An account with transfers out locked (and an unlock under way)."""
    account.outgoing_locked = True
    account.outgoing_unlock_at = utcnow() + timedelta(hours=20) if unlocking else None
    db.session.commit()


def _mail_trouble(w):
    """A failed message and one waiting for another attempt (their errors are the server's)."""
    errors = ("550 5.1.1 no such user", "451 4.3.0 try again later")
    common = {"template": "t", "language": PSEUDO, "text_body": "-", "html_body": "-"}
    db.session.add_all(
        [
            OutboxMessage(
                recipient="gone@novak.cz",
                subject=mark("Subject"),
                status="failed",
                failed_at=utcnow(),
                failure_kind="refused",
                last_error=errors[0],
                **common,
            ),
            OutboxMessage(
                recipient="later@novak.cz",
                subject=mark("Subject"),
                next_attempt_at=utcnow() + timedelta(hours=1),
                last_error=errors[1],
                **common,
            ),
        ]
    )
    db.session.commit()
    w.data |= set(errors)


def _post(path, **data):
    return lambda client, w: client.post(path, data=data, follow_redirects=True)


def _csrf_refused(client, w):
    client.application.config["WTF_CSRF_ENABLED"] = True
    try:
        return client.post("/language", data={"language": "de"})
    finally:
        client.application.config["WTF_CSRF_ENABLED"] = False


def _wizard_submitted(client, w):
    run = f"/transfers/wizard/run/{_wizard_run(client, w, key='submit')}"
    return client.post(f"{run}/review", data={"submit": "1"}, follow_redirects=True)


def _add_domain(domain):
    def send(client, w):
        run = f"/transfers/wizard/run/{_wizard_run(client, w)}"
        return client.post(f"{run}/add-domain", data={"domain": domain})

    return send


def _wizard_step(data, key="push"):
    def send(client, w):
        run = f"/transfers/wizard/run/{_wizard_run(client, w, key)}"
        return client.post(f"{run}/services", data=data(w), follow_redirects=True)

    return send


def _resend(client, w, request=None):
    request = request or w.request
    url = f"/transfers/requests/{request.id}/parties/{w.other.id}/resend"
    return client.post(url, follow_redirects=True)


def _resend_too_often(client, w):
    for _ in range(2):  # the limit is 3 per hour; the flow before sent the first
        assert _resend(client, w).status_code == 200
    return _resend(client, w)


def _respond(request, account, answer):
    def send(client, w):
        req = w.request if request == "awaiting" else w.requests[request]
        url = url_for("transfers.respond", **_link(req, getattr(w, account)))
        return client.post(url, data={answer: "1"})

    return send


def _on_request(request, action, **data):
    def send(client, w):
        req = w.request if request == "awaiting" else w.requests[request]
        return _post(f"/transfers/requests/{req.id}/{action}", **data)(client, w)

    return send


def _tax_document(client, w):
    executed, pr = w.requests["executed"], w.documents["offered"]
    return _post(f"/billing/transfers/{executed.id}/tax-documents/{pr.external_id}")(client, w)


def _mark_paid(document, **data):
    def send(client, w):
        url = f"/staff/payment-requests/{w.documents[document].external_id}/paid"
        return _post(url, **data)(client, w)

    return send


def _tax_document_done(client, w):
    query = db.select(TaxDocumentRequest).filter_by(done_at=None).order_by(TaxDocumentRequest.id)
    tdr = db.session.scalars(query).first()
    return _post(f"/staff/tax-documents/{tdr.id}/done")(client, w)


def _on_request_staff(request, action, **data):
    def send(client, w):
        req = w.request if request == "awaiting" else w.requests[request]
        return _post(f"/staff/requests/{req.id}/{action}", **data)(client, w)

    return send


def _on_party_staff(action, **data):
    def send(client, w):
        url = f"/staff/requests/{w.request.id}/parties/{w.other.id}/{action}"
        return _post(url, **data)(client, w)

    return send


def _on_mail(action, **data):
    def send(client, w):
        query = db.select(OutboxMessage).filter_by(status="failed").order_by(OutboxMessage.id)
        message = db.session.scalars(query).first()
        if message is None:
            _mail_trouble(w)
            message = db.session.scalars(query).first()
        return _post(f"/staff/outbox/{message.id}/{action}", **data)(client, w)

    return send


def _tomorrow():
    return (billing.today() + timedelta(days=1)).isoformat()


def _two_factor_on(client):
    """Novak turns two-factor on: the page with the recovery codes."""
    client.get("/my-data/two-factor")
    with client.session_transaction() as sess:
        secret = sess["2fa_setup"]
    return client.post("/my-data/two-factor", data={"code": pyotp.TOTP(secret).now()})


def _two_factor_log_in(client):
    """Novak (with two-factor on) logs in: the page asking for the code, then a wrong one."""
    client.post("/login", data={"login": "novak", "password": factories.PASSWORD})
    return client.post("/login/code", data={"code": "000000"})


# Pages shown after a POST or an error: (name, who, request, expected status); who is True
# (anonymous), False (novak) or the login name of another account of the world.
FLOWS = [
    ("log-in refused", True, _post("/login", login="novak", password="wrong"), 200),
    ("log-in form incomplete", True, _post("/login", login="", password=""), 200),
    ("reset asked", True, _post("/password/forgot", identifier="novak"), 200),
    (
        "password change refused",
        False,
        lambda c, w: c.post("/my-data/password", data={"pw-current": "x", "pw-password": "y"}),
        200,
    ),
    (
        "e-mail change refused",
        False,
        lambda c, w: c.post("/my-data/email", data={"mail-email": "x", "mail-current": "x"}),
        200,
    ),
    (
        "e-mail change asked",
        False,
        _post("/my-data/email", **{"mail-email": "jan@new.example", "mail-current": "x"}),
        200,
    ),
    (
        "new password refused",
        True,
        lambda c, w: c.post(
            url_for("accounts.reset_password", **_password_link(w, accounts.RESET)),
            data={"password": "short", "confirm": "other"},
        ),
        200,
    ),
    ("error 404", False, lambda c, w: c.get("/no-such-page"), 404),
    ("error 405", False, lambda c, w: c.get("/logout"), 405),
    (
        "error 403: a payer terminates",
        False,
        lambda c, w: c.post(f"/services/{w.paid.external_id}/terminate"),
        403,
    ),
    ("error 400: CSRF token missing", False, _csrf_refused, 400),
    ("language refused", False, _post("/language", language="xx", next="/my-data"), 200),
    ("settings saved", False, _post("/my-data", language=PSEUDO, timezone="Europe/Prague"), 200),
    ("service updated", False, lambda c, w: _post(f"/services/{w.web.external_id}")(c, w), 200),
    (
        "termination started",
        False,
        lambda c, w: _post(f"/services/{w.shop.external_id}/terminate")(c, w),
        200,
    ),
    (
        "termination already under way",
        False,
        lambda c, w: _post(f"/services/{w.shop.external_id}/terminate")(c, w),
        200,
    ),
    # The wizard: refused steps, an expired run, a submitted request.
    ("wizard: no such customer", False, _post("/transfers/wizard/push", domain="novak.cz"), 200),
    (
        "wizard: other customer unknown",
        False,
        _post("/transfers/wizard/pull", domain="novak.cz", login="nobody", number="1"),
        200,
    ),
    (
        "wizard: not my business case",
        False,
        lambda c, w: _post("/transfers/wizard/push", domain="svoboda.cz", code=w.other.code)(c, w),
        200,
    ),
    (
        "wizard: a service that cannot move chosen",
        False,
        _wizard_step(lambda w: {"services": [w.shop.id], "change": "both"}),
        200,
    ),
    ("wizard: no service chosen", False, _wizard_step(lambda w: {"change": "owner"}), 200),
    (
        "wizard: bad extra address",
        False,
        _wizard_step(lambda w: {"services": [w.services["mail"].id], "notify_email": "x@"}),
        200,
    ),
    (
        "wizard: a domain the customer does not own",
        False,
        _add_domain("svoboda.cz"),
        200,
    ),
    ("wizard: a domain with nothing to move", False, _add_domain("dvorak.cz"), 200),
    ("wizard: run expired", False, _post("/transfers/wizard/run/gone/review"), 200),
    ("wizard: submitted", False, _wizard_submitted, 200),
    # The life cycle of a request.
    ("link resent", False, _resend, 200),
    ("link resent too often", False, _resend_too_often, 429),
    ("confirmed by link", True, _respond("awaiting", "me", "confirm"), 200),
    ("link used again", True, _respond("awaiting", "me", "confirm"), 410),
    ("link: neither confirm nor decline", True, _respond("offered", "me", "nothing"), 200),
    ("confirmed on the request's page", False, _on_request("offered", "answer", confirm="1"), 200),
    ("declined by link", True, _respond("offered", "other", "decline"), 200),
    ("answer refused: request ended", False, _on_request("offered", "answer", decline="1"), 200),
    ("cancelled", False, _on_request("awaiting", "cancel"), 200),
    ("cancel refused: request ended", False, _on_request("awaiting", "cancel"), 200),
    (
        "resend refused: request ended",
        False,
        lambda c, w: _resend(c, w, w.requests["offered"]),
        200,
    ),
    # Billing: a tax document asked for, staff marks payments and tax documents.
    ("tax document requested", False, _tax_document, 200),
    ("tax document refused: asked already", False, _tax_document, 200),
    ("staff searches", "dvorak", lambda c, w: c.get("/staff/?q=svoboda"), 200),
    ("marked paid", "dvorak", _mark_paid("staff"), 200),
    ("mark paid refused: paid already", "dvorak", _mark_paid("staff"), 200),
    (
        "mark paid refused: a day in the future",
        "dvorak",
        lambda c, w: _mark_paid("unpaid", paid_on=_tomorrow())(c, w),
        200,
    ),
    ("mark paid refused: not a date", "dvorak", _mark_paid("unpaid", paid_on="soon"), 200),
    ("tax document done", "dvorak", _tax_document_done, 200),
    ("staff: reason missing", "dvorak", _on_request_staff("awaiting", "cancel"), 200),
    (
        "staff: link to another address",
        "dvorak",
        _on_party_staff("elsewhere", address="new@novak.cz", reason="Phone call"),
        200,
    ),
    (
        "staff: bad other address",
        "dvorak",
        _on_party_staff("elsewhere", address="x@", reason="Phone call"),
        200,
    ),
    ("staff: resend", "dvorak", _on_party_staff("resend"), 200),
    (
        "staff: confirmed on behalf",
        "dvorak",
        _on_party_staff("confirm", reason="Dead mailbox", reference="ID card"),
        200,
    ),
    (
        "staff: confirm refused: answered",
        "dvorak",
        _on_party_staff("confirm", reason="Dead mailbox", reference="ID card"),
        200,
    ),
    (
        "staff: cancelled",
        "dvorak",
        _on_request_staff("offered", "cancel", reason="Asked by phone"),
        200,
    ),
    (
        "staff: cancel refused: ended",
        "dvorak",
        _on_request_staff("offered", "cancel", reason="x"),
        200,
    ),
    ("staff: settings refused", "dvorak", _post("/staff/settings", TRANSFER_EXPIRY_DAYS="0"), 200),
    ("staff: approve refused", "dvorak", _on_request_staff("awaiting", "approve"), 200),
    ("staff: mail requeued", "dvorak", _on_mail("requeue"), 200),
    (
        "staff: API key created",
        "dvorak",
        _integration_post("/staff/api-keys", name="billing", scopes=["read"]),
        200,
    ),
    ("staff: API key refused", "dvorak", _integration_post("/staff/api-keys", name=""), 422),
    ("staff: API key revoked", "dvorak", _integration_post("/staff/api-keys/{key}/revoke"), 200),
    (
        "staff: webhook refused",
        "dvorak",
        _integration_post("/staff/webhooks", url="ftp://billing.example/hook"),
        422,
    ),
    (
        "staff: webhook registered",
        "dvorak",
        _integration_post(
            "/staff/webhooks", url="https://billing.example/new", event_types=["service_blocked"]
        ),
        200,
    ),
    ("staff: webhook redelivered", "dvorak", _redeliver, 200),
    (
        "staff: webhook disabled",
        "dvorak",
        _integration_post("/staff/webhooks/{endpoint}/disabled"),
        200,
    ),
    (
        "staff: webhook enabled",
        "dvorak",
        _integration_post("/staff/webhooks/{endpoint}/enabled"),
        200,
    ),
    (
        "staff: webhook deleted",
        "dvorak",
        _integration_post("/staff/webhooks/{endpoint}/delete"),
        200,
    ),
    ("staff: mail sent elsewhere", "dvorak", _on_mail("resend", address="new@novak.cz"), 200),
    ("two-factor turned on: recovery codes", False, lambda c, w: _two_factor_on(c), 200),
    ("two-factor code asked", True, lambda c, w: _two_factor_log_in(c), 200),
    ("logged out", False, _post("/logout"), 200),
]


def _pages_of(endpoint):
    entry = PAGES[endpoint]
    return entry if isinstance(entry, list) else [entry]


def _page_templates():
    """The templates a page renders directly (not partials, layouts or mails)."""
    names = set()
    for path in TEMPLATES.rglob("*.html"):
        name = path.relative_to(TEMPLATES).as_posix()
        layout = name == "base.html" or path.stem.endswith("_layout")  # only extended
        if not (path.name.startswith("_") or layout or name.startswith("emails/")):
            names.add(name)
    return names


def _get_endpoints(app):
    return {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}


def test_every_get_endpoint_is_covered(app):
    endpoints = _get_endpoints(app)
    missing = sorted(endpoints - PAGES.keys())
    assert not missing, f"add these GET endpoints to PAGES in {__name__}: {missing}"
    stale = sorted(PAGES.keys() - endpoints)
    assert not stale, f"PAGES names endpoints that do not exist: {stale}"


class _Clients(dict):
    """Clients by who uses them: True (anonymous, chose the pseudo-locale), False (``client``
    logged in as ``w.me``), or a login name (a client of its own, logged in as that account)."""

    def __missing__(self, login):
        other = self[True].application.test_client()
        response = other.post("/login", data={"login": login, "password": factories.PASSWORD})
        assert response.status_code == 302, f"log-in of {login} failed"
        self[login] = other
        return other


def _clients(app, client, w, log_in):
    anonymous = app.test_client()
    anonymous.post("/language", data={"language": PSEUDO})
    log_in(w.me.login)
    return _Clients({True: anonymous, False: client})


def walk(app, client, w, log_in, on_page=None):
    """Open every page and flow; returns ([problems], {templates rendered}).

    ``on_page(label, html)`` receives every HTML page on the way (for the page checkers)."""
    problems, rendered = [], set()

    def _record(sender, template, context, **extra):
        rendered.add(template.name)

    def _check(label, response, expected):
        if response.status_code != expected:
            problems.append(f"{label}: status {response.status_code}, expected {expected}")
        if response.status_code in (301, 302, 303):
            return
        html = response.get_data(as_text=True)
        if on_page is not None and response.mimetype == "text/html":
            on_page(label, html)
        if f'<html lang="{PSEUDO}">' not in html:
            problems.append(f"{label}: <html lang> is not {PSEUDO}")
        for text, words in html_leaks(html, w.data):
            problems.append(f"{label}: {words} in {text!r}")

    clients = _clients(app, client, w, log_in)
    template_rendered.connect(_record, app)
    try:
        for endpoint in sorted(PAGES):
            for page in _pages_of(endpoint):
                if page.skip:
                    continue
                opener = clients[page.login or page.anonymous]
                if page.setup:
                    page.setup(opener, w)
                with app.test_request_context():
                    url = url_for(endpoint, **page.values(w))
                _check(f"{endpoint} {url}", opener.get(url), page.status)
        for name, who, send, expected in FLOWS:  # in order: log-out comes last
            with app.test_request_context():
                response = send(clients[who], w)
            _check(name, response, expected)
    finally:
        template_rendered.disconnect(_record, app)
    return problems, rendered


@pytest.fixture
def world(app, make):
    """The walk's data in a fresh database."""
    return build_world(make)


def test_pages_show_no_hard_coded_english(app, client, world, log_in):
    problems, rendered = walk(app, client, world, log_in)
    assert not problems, "hard-coded text on pages:\n" + "\n".join(problems)
    unrendered = sorted(_page_templates() - rendered)
    assert not unrendered, f"templates no page of PAGES or FLOWS renders: {unrendered}"


# ---------------------------------------------------------------- the mails
def _outbox(w, template):
    query = db.select(OutboxMessage).filter_by(template=template).order_by(OutboxMessage.id)
    return db.session.scalars(query).all()


def _reminder(w):
    operations.queue_confirmation(w.request, w.party, template="reminder")
    db.session.commit()
    return _outbox(w, "reminder")


def _unlock_notice(w):
    protection.lock(w.me)
    protection.request_unlock(w.me)
    return _outbox(w, "outgoing_unlock")


def _account_mail(w, template):
    """The mails of forgot password, password change and invitation, to Eva (no password)."""
    if template == "password_reset":
        accounts.request_password_reset(w.other.login)
    elif template == "email_confirm":
        accounts.request_email_change(w.other, "eva@new.example")
    elif template == "email_changed":
        accounts.apply_email_change(w.other, "eva@new.example")
    elif template == "password_changed":
        accounts.set_new_password(w.other, "a long new secret", how="reset")
    else:
        w.other.password_hash = None
        assert accounts.invite(w.other)
    db.session.commit()
    return _outbox(w, template)


# template -> how to produce its mails from the world (through the real operations).
def _staff_notices(w):
    """Support sends a party's link elsewhere, then confirms on its behalf."""
    # Eva Svobodová hands over (novak has locked his outgoing transfers by now).
    service = factories.service(w.other, domain="svoboda.biz", kind="domain")
    request = _pushed(w.other, w.me, service)
    party = request.party_for(w.me.id)
    operations.send_link_elsewhere(request, party, "new@svoboda.cz", w.staff, "Phone call")
    operations.confirm_on_behalf(request, party, w.staff, "Dead mailbox", "ID card")
    return _outbox(w, "staff_notice")


MAILS = {
    "outgoing_unlock": _unlock_notice,
    "confirm_request": lambda w: _outbox(w, "confirm_request"),  # written with the request
    "request_notice": lambda w: _outbox(w, "request_notice"),  # old payer, extra address
    "reminder": _reminder,
    # executed, failed, declined, cancelled (also to the extra address) and expired requests
    "request_ended": lambda w: _outbox(w, "request_ended"),
    "tax_document_done": lambda w: _outbox(w, "tax_document_done"),  # staff marked it done
    "staff_notice": _staff_notices,  # link sent elsewhere, confirmed on behalf
    "password_reset": lambda w: _account_mail(w, "password_reset"),
    "password_changed": lambda w: _account_mail(w, "password_changed"),
    "invitation": lambda w: _account_mail(w, "invitation"),
    "email_confirm": lambda w: _account_mail(w, "email_confirm"),
    "email_changed": lambda w: _account_mail(w, "email_changed"),
    "webhook_disabled": lambda w: _webhook_disabled(w),  # to staff, after 3 days of failures
}


def _webhook_disabled(w):
    from cession_app.webhooks import operations as webhooks

    webhooks.notify_disabled(webhooks.create_endpoint("https://billing.example/hook"))
    db.session.commit()
    return _outbox(w, "webhook_disabled")


def _mail_templates():
    return {
        path.stem
        for path in (TEMPLATES / "emails").iterdir()
        if path.suffix in (".txt", ".html") and not path.name.startswith("_")
    }


def test_every_mail_template_is_covered():
    names = _mail_templates()
    missing = sorted(names - MAILS.keys())
    assert not missing, f"add these mail templates to MAILS in {__name__}: {missing}"
    for name in names:
        for suffix in (".txt", ".html"):
            assert (TEMPLATES / "emails" / f"{name}{suffix}").exists(), f"{name}{suffix} missing"
    assert not sorted(MAILS.keys() - names), "MAILS names templates that do not exist"


def mail_problems(messages, data):
    """Hard-coded text in the subjects, text parts and HTML parts of ``messages``."""
    problems = []
    for m in messages:
        label = f"{m.template} to {m.recipient}"
        if m.language != PSEUDO:
            problems.append(f"{label}: rendered in {m.language}")
        if f'<html lang="{PSEUDO}">' not in m.html_body:
            problems.append(f"{label}: <html lang> is not {PSEUDO}")
        for part, leaks in (
            ("subject", text_leaks(m.subject, data)),
            ("text", text_leaks(m.text_body, data)),
            ("html", html_leaks(m.html_body, data)),
        ):
            problems.extend(f"{label} ({part}): {words} in {text!r}" for text, words in leaks)
    return problems


def test_mails_show_no_hard_coded_english(app, world):
    problems = []
    for template, produce in sorted(MAILS.items()):
        messages = produce(world)
        assert messages, f"MAILS[{template!r}] produced no mail"
        problems += mail_problems(messages, world.data)
    assert not problems, "hard-coded text in mails:\n" + "\n".join(problems)
    notices = _outbox(world, "request_notice")
    assert {m.recipient for m in notices} == {world.payer.email, "info@novak.cz"}
    ended = _outbox(world, "request_ended")
    assert "info@novak.cz" in {m.recipient for m in ended}  # the extra address's variant
    assert {world.requests[s].state for s in world.requests} >= {
        "executed",
        "failed",
        "declined",
        "cancelled",
        "expired",
    }


# ---------------------------------------------------------------- the checker itself
def test_checker_reports_bare_english_and_passes_marked_text_and_data():
    data = {"novak.cz", "Jan Novák"}
    assert leaked_words(f"{mark('Transfer')} novak.cz · 12. 3. 2025", data) == []
    nested = mark(f"Hello {mark('Webhosting')}")
    assert leaked_words(f"{nested} Jan Novák", data) == []
    assert leaked_words(f"{mark('Transfer')} Transfer", data) == ["Transfer"]
    assert leaked_words("see https://cession.test/x?a=b or ask x@novak.cz", data) == [
        "see",
        "or",
        "ask",
    ]
    html = (
        f'<title>{mark("My services")}</title><script>var x = "code";</script>'
        f'<p title="Your code">{mark("Hello")}</p>'
        f'<input type="submit" value="Send"><input type="hidden" value="secret">'
        f'<form onsubmit="return confirm(&#34;Really?&#34;)"></form>'
    )
    assert [words for _, words in html_leaks(html, data)] == [
        ["Your", "code"],
        ["Send"],
        ["Really"],
    ]


@pytest.mark.parametrize(
    "template, original, bare",
    [
        ("services/index.html", '{{ _("My services") }}</h1>', "My services</h1>"),
        (
            "emails/confirm_request.txt",
            '{{ _("To confirm or decline, open this link:") }}',
            "To confirm or decline, open this link:",
        ),
    ],
)
def test_a_template_string_without_gettext_fails(
    app, client, world, log_in, tmp_path, template, original, bare
):
    """Drop one _() from a real template: the same checks now report its words."""
    source = (TEMPLATES / template).read_text()
    assert original in source, f"update this test: {original!r} is no longer in {template}"
    (tmp_path / template).parent.mkdir(parents=True)
    (tmp_path / template).write_text(source.replace(original, bare))
    app.jinja_env.loader = ChoiceLoader([FileSystemLoader(tmp_path), app.jinja_env.loader])
    if template.startswith("emails/"):
        operations.queue_confirmation(world.request, world.party)
        db.session.commit()
        problems = mail_problems(_outbox(world, "confirm_request")[-1:], world.data)
    else:
        problems, _ = walk(app, client, world, log_in)
    text = bare.removesuffix("</h1>")
    assert any(repr(text) in p for p in problems), problems
