"""The staff console: search, customer and request pages, interventions, audit trail, outbox."""

import csv
import io
import re
import sys
import types
from html import unescape

import pytest

import cession_app.accounts as accounts_package
from cession_app.extensions import db
from cession_app.models import Account, AuditEvent, OutboxMessage
from cession_app.staff import operations as staff_ops
from cession_app.staff.routes import invite_available
from tests.factories import PASSWORD
from tests.lifecycle_helpers import deliver, fresh, link_for, push, text_of

IDN_UNICODE = "žluťoučký.cz"
IDN_PUNYCODE = "xn--luouk-uva4it5a4g.cz"


@pytest.fixture
def world(make):
    """Jan pushes his webhosting to Eva; staffer is staff."""
    jan = make.account("jan", name="Jan Novák", email="jan@novak.cz")
    eva = make.account("eva", name="Eva Svobodová", email="eva@dead.test", number="777001")
    staffer = make.account("staffer", staff=True, name="Petr Support")
    web = make.service(jan, domain=IDN_PUNYCODE, external_id="SVC-WEB")
    request = push(make, jan, eva, web)
    return {"jan": jan, "eva": eva, "staffer": staffer, "web": web, "request": request}


def _page(response):
    return unescape(response.get_data(as_text=True))


# ---------------------------------------------------------------- who may open it
STAFF_GETS = [
    "/staff/",
    "/staff/search?q=jan",
    "/staff/customers/{jan}",
    "/staff/requests/{request}",
    "/staff/audit",
    "/staff/audit.csv",
    "/staff/outbox",
    "/billing/staff",
    "/billing/staff/outbox",
]
STAFF_POSTS = [
    "/staff/requests/{request}/cancel",
    "/staff/requests/{request}/parties/{eva_id}/resend",
    "/staff/requests/{request}/parties/{eva_id}/elsewhere",
    "/staff/requests/{request}/parties/{eva_id}/confirm",
    "/staff/outbox/1/requeue",
    "/staff/outbox/1/resend",
    "/staff/customers/{jan}/invite",
    "/staff/customers/{jan}/sign-out",
    "/staff/payment-requests/PR-X/paid",
    "/staff/tax-documents/1/done",
]


def _fill(url, world):
    return url.format(
        jan=world["jan"].code,
        request=world["request"].id,
        eva_id=world["eva"].id,
        jan_id=world["jan"].id,
    )


def test_customers_get_404_on_every_staff_url_and_nothing_changes(client, world, log_in):
    log_in("jan")  # a party of the request, and still no staff page for him
    for url in STAFF_GETS:
        assert client.get(_fill(url, world)).status_code == 404, url
    for url in STAFF_POSTS:
        data = {"reason": "x", "reference": "y", "address": "a@b.cz"}
        assert client.post(_fill(url, world), data=data).status_code == 404, url
    assert fresh(world["request"].id).state == "awaiting"
    assert 'href="/staff/"' not in _page(client.get("/transfers/"))


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    response = client.get("/staff/search?q=jan")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_staff_posts_need_a_csrf_token(app, client, world, log_in):
    log_in("staffer")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        url = _fill("/staff/requests/{request}/cancel", world)
        assert client.post(url, data={"reason": "forged"}).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert fresh(world["request"].id).state == "awaiting"


def test_old_staff_urls_redirect(client, world, log_in):
    log_in("staffer")
    response = client.get("/billing/staff?q=abc")
    assert response.status_code == 301 and response.headers["Location"] == "/staff/?q=abc"
    assert client.get("/billing/staff/outbox").headers["Location"] == "/staff/outbox"


# ---------------------------------------------------------------- search
@pytest.mark.parametrize(
    "text, group",
    [
        (IDN_UNICODE, "requests"),
        (IDN_PUNYCODE, "requests"),
        (IDN_UNICODE.upper(), "services"),
        ("SVC-WEB", "services"),
        ("{request}", "requests"),
        ("#{request}", "requests"),
        ("{jan}", "customers"),
        ("777001", "customers"),
        ("eva", "customers"),
        ("svobod", "customers"),
        ("jan@novak.cz", "customers"),
        ("PR-SEARCH", "payment_requests"),
    ],
)
def test_search_finds_each_key(app, make, world, text, group):
    make.payment_request(world["web"], external_id="PR-SEARCH")
    text = text.format(request=world["request"].id, jan=world["jan"].code)
    found = staff_ops.search(text)
    assert getattr(found, group), (text, found)


def test_search_by_domain_lists_its_owner_request_and_services(client, world, log_in):
    log_in("staffer")
    page = _page(client.get("/staff/search", query_string={"q": IDN_UNICODE}))
    assert "Jan Novák" in page and "SVC-WEB" in page
    assert f'href="/staff/requests/{world["request"].id}"' in page
    assert f'href="/staff/customers/{world["jan"].code}"' in page


def test_a_search_reads_six_statements_and_still_shows_each_requests_accounts(
    client, world, log_in, make
):
    """A list of requests reads their accounts and domains, not their parties nor holder
    changes (which it does not show): a search that looks in every group reads six
    statements, the session's account included (eight before)."""
    from sqlalchemy import event

    log_in("staffer")
    make.payment_request(world["web"], external_id="PR-SIX")

    def statements(text):
        seen = []

        def count(*args):
            seen.append(args[2])

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            page = client.get("/staff/search", query_string={"q": text})
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert page.status_code == 200
        return [s for s in seen if not s.lstrip().upper().startswith(("PRAGMA", "SAVEPOINT"))], page

    found, page = statements(IDN_UNICODE)
    assert f'href="/staff/requests/{world["request"].id}"' in _page(page)
    assert "Jan Novák" in _page(page)  # the request's accounts, from the same statements
    assert len(found) <= 6, found


@pytest.mark.parametrize("text", ["9" * 5000, str(2**31), str(2**63), "0", "-1", "%", "_", "'"])
def test_search_with_odd_input_answers_clearly(client, world, log_in, text):
    log_in("staffer")
    response = client.get("/staff/search", query_string={"q": text[:253]})
    assert response.status_code == 200
    assert "Nothing found" in _page(response)


def test_search_refuses_nul_and_overlong_text_clearly(client, world, log_in):
    log_in("staffer")
    response = client.get("/staff/search", query_string={"q": "jan\x00"})
    assert response.status_code == 400
    response = client.get("/staff/search", query_string={"q": "x" * 300})
    assert response.status_code == 200 and "Field cannot be longer" in _page(response)


# ---------------------------------------------------------------- customer and request pages
def test_customer_page_shows_services_requests_mails_and_events(client, world, log_in):
    log_in("jan")
    client.post("/logout")
    log_in("staffer")
    page = _page(client.get(f"/staff/customers/{world['jan'].code}"))
    assert "SVC-WEB" in page and "jan@novak.cz" in page
    assert f'href="/staff/requests/{world["request"].id}"' in page
    assert "Please confirm the transfer" in page  # the mail written to Jan
    assert "Logged in" in page and "Request made" in page
    assert "customer panel" in page  # how
    assert client.get("/staff/customers/nobody").status_code == 404


def test_request_page_shows_timeline_and_mails(client, world, log_in, smtp):
    deliver()
    log_in("eva")
    client.post(f"/transfers/requests/{world['request'].id}/answer", data={"confirm": "1"})
    client.post("/logout")
    log_in("staffer")
    page = _page(client.get(f"/staff/requests/{world['request'].id}"))
    assert "Request made" in page and "Confirmed" in page
    assert "Eva Svobodová" in page and "127.0.0.1" in page and "customer panel" in page
    assert "eva@dead.test" in page and "Sent on" in page
    assert client.get("/staff/requests/999999").status_code == 404


# ---------------------------------------------------------------- interventions
def test_staff_cancel_needs_a_reason_and_tells_everyone(client, world, log_in, smtp):
    log_in("staffer")
    url = f"/staff/requests/{world['request'].id}/cancel"
    page = _page(client.post(url, data={"reason": "  "}, follow_redirects=True))
    assert "Please give the reason." in page
    assert fresh(world["request"].id).state == "awaiting"
    client.post(url, data={"reason": "Asked by phone"})
    assert fresh(world["request"].id).state == "cancelled"
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="transfer_cancelled"))
    assert (event.channel, event.actor_id) == ("staff", world["staffer"].id)
    assert event.details["staff_reason"] == "Asked by phone"
    deliver()
    for address in ("jan@novak.cz", "eva@dead.test"):
        [ended] = [m for m in smtp.to(address) if "cancelled" in m["Subject"]]
        assert "cancelled by our support" in text_of(ended)
        assert "Asked by phone" in text_of(ended)
    again = _page(client.post(url, data={"reason": "again"}, follow_redirects=True))
    assert "already ended" in again


def test_send_link_elsewhere_delivers_there_once_and_keeps_the_address(client, world, log_in, smtp):
    deliver()
    smtp.clear()
    log_in("staffer")
    eva = world["eva"]
    url = f"/staff/requests/{world['request'].id}/parties/{eva.id}/elsewhere"
    refused = client.post(url, data={"address": "no-at-sign", "reason": "phone"})
    assert "valid e-mail address" in _page(client.get(refused.headers["Location"]))
    client.post(url, data={"address": "eva@alive.test", "reason": "Told us by phone"})
    deliver()
    [mail] = smtp.to("eva@alive.test")
    db.session.expire_all()
    assert db.session.get(Account, eva.id).email == "eva@dead.test"
    event = db.session.scalar(
        db.select(AuditEvent).filter_by(action="transfer_link_sent_elsewhere")
    )
    assert event.details["address"] == "eva@alive.test" and event.channel == "staff"
    # Every party hears of it (Eva at her own address too), with the reason.
    for address in ("jan@novak.cz", "eva@dead.test"):
        [notice] = [m for m in smtp.to(address) if "Our support" in m["Subject"]]
        assert "Told us by phone" in text_of(notice)
    # The link works (once): Eva confirms with it.
    link = link_for(smtp, "eva@alive.test")
    client.post("/logout")
    client.post(link, data={"confirm": "1"})
    assert fresh(world["request"].id).party_for(eva.id).confirmed_at is not None
    assert client.post(link, data={"confirm": "1"}).status_code == 410


def test_confirm_on_behalf_records_reason_and_reference_mails_all_and_executes(
    client, world, log_in, smtp
):
    jan, eva = world["jan"], world["eva"]
    log_in("jan")
    client.post(f"/transfers/requests/{world['request'].id}/answer", data={"confirm": "1"})
    client.post("/logout")
    log_in("staffer")
    url = f"/staff/requests/{world['request'].id}/parties/{eva.id}/confirm"
    page = _page(client.post(url, data={"reason": "dead mailbox"}, follow_redirects=True))
    assert "Please name the document" in page
    assert fresh(world["request"].id).party_for(eva.id).confirmed_at is None
    data = {"reason": "Mailbox is dead", "reference": "Written request of 2 Dec, ID checked"}
    page = _page(client.post(url, data=data, follow_redirects=True))
    assert "Confirmed on behalf of Eva Svobodová" in page
    event = db.session.scalar(
        db.select(AuditEvent).filter_by(action="transfer_confirmed_on_behalf")
    )
    assert event.details == {
        "party": eva.id,
        "reason": "Mailbox is dead",
        "reference": "Written request of 2 Dec, ID checked",
    }
    assert event.actor_id == world["staffer"].id and event.channel == "staff"
    deliver()
    assert fresh(world["request"].id).state == "executed"
    db.session.refresh(world["web"])
    assert world["web"].owner_id == eva.id
    for address in (jan.email, eva.email):
        [notice] = [m for m in smtp.to(address) if "Our support" in m["Subject"]]
        assert "Written request of 2 Dec, ID checked" in text_of(notice)
    # On the timeline: who (the staff member), how (provider support), why.
    page = _page(client.get(f"/staff/requests/{world['request'].id}"))
    assert "Confirmed by support on behalf of a customer" in page
    assert "Petr Support" in page and "provider support" in page
    assert "Mailbox is dead" in page


def test_staff_cannot_confirm_for_a_party_that_answered(client, world, log_in):
    jan = world["jan"]
    log_in("jan")
    client.post(f"/transfers/requests/{world['request'].id}/answer", data={"confirm": "1"})
    client.post("/logout")
    log_in("staffer")
    url = f"/staff/requests/{world['request'].id}/parties/{jan.id}/confirm"
    page = _page(client.post(url, data={"reason": "r", "reference": "x"}, follow_redirects=True))
    assert "already answered" in page
    assert (
        client.post(f"/staff/requests/{world['request'].id}/parties/999/confirm").status_code == 404
    )


def test_staff_resend_sends_the_link_again(client, world, log_in, smtp):
    deliver()
    smtp.clear()
    log_in("staffer")
    client.post(f"/staff/requests/{world['request'].id}/parties/{world['eva'].id}/resend")
    deliver()
    assert smtp.to("eva@dead.test")
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="transfer_link_resent"))
    assert event.channel == "staff" and event.actor_id == world["staffer"].id


# ---------------------------------------------------------------- audit trail
def test_audit_page_filters_and_csv_neutralises_formulas(client, make, world, log_in):
    evil = make.account("evil", name='=HYPERLINK("http://x")')
    log_in("evil")
    client.post("/logout")
    log_in("staffer")
    page = _page(client.get("/staff/audit", query_string={"account": world["jan"].code}))
    assert "Request made" in page and "HYPERLINK" not in page
    page = _page(client.get("/staff/audit", query_string={"account": "nobody"}))
    assert "No customer has this code." in page
    page = _page(client.get("/staff/audit", query_string={"request": "9" * 50}))
    assert "cannot be longer than 12 characters" in page
    page = _page(client.get("/staff/audit", query_string={"request": "99999999999"}))
    assert "Please enter a request number." in page
    page = _page(client.get("/staff/audit", query_string={"action": "login"}))
    assert 'class="event event-login"' in page and "event-transfer_requested" not in page
    response = client.get("/staff/audit.csv", query_string={"account": evil.code})
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["time_utc", "action", "channel"]
    assert rows[1][1] == "login" and rows[1][4] == '\'=HYPERLINK("http://x")'
    assert staff_ops.csv_cell("+1") == "'+1" and staff_ops.csv_cell("@x") == "'@x"
    assert staff_ops.csv_cell("-2") == "'-2" and staff_ops.csv_cell("ok") == "ok"


def test_audit_dates_filter_by_day(client, world, log_in):
    log_in("staffer")
    page = _page(
        client.get("/staff/audit", query_string={"since": "2000-01-01", "until": "2000-01-02"})
    )
    assert "No events." in page
    page = _page(client.get("/staff/audit", query_string={"since": "not a date"}))
    assert "Not a valid date" in page


# ---------------------------------------------------------------- outbox
def test_failed_mail_can_be_requeued_or_sent_to_a_corrected_address(client, world, log_in, smtp):
    smtp.refused["eva@dead.test"] = "550 5.1.1 no such mailbox"
    deliver()
    failed = db.session.scalar(db.select(OutboxMessage).filter_by(status="failed"))
    assert failed.recipient == "eva@dead.test"
    log_in("staffer")
    client.post(f"/staff/outbox/{failed.id}/resend", data={"address": "bad"})
    assert db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage)) == 2
    client.post(f"/staff/outbox/{failed.id}/resend", data={"address": "eva@alive.test"})
    smtp.refused.clear()
    deliver()
    [copy] = smtp.to("eva@alive.test")
    assert copy["Subject"] == failed.subject
    client.post(f"/staff/outbox/{failed.id}/requeue")
    deliver()
    assert smtp.to("eva@dead.test")
    actions = set(
        db.session.scalars(db.select(AuditEvent.action).where(AuditEvent.object_type == "mail"))
    )
    assert actions == {"mail_resent", "mail_requeued"}
    page = _page(client.post(f"/staff/outbox/{failed.id}/requeue", follow_redirects=True))
    assert "has not failed" in page


# ---------------------------------------------------------------- roles
ADMIN_POSTS = [
    ("/staff/requests/{request}/cancel", {"reason": "r"}),
    ("/staff/requests/{request}/parties/{eva_id}/elsewhere", {"address": "a@b.cz", "reason": "r"}),
    ("/staff/requests/{request}/parties/{eva_id}/confirm", {"reason": "r", "reference": "x"}),
]


def test_support_cannot_cancel_or_act_for_a_customer_and_admin_can(client, make, world, log_in):
    make.account("helper", staff=True, staff_role="support")
    log_in("helper")
    for url, data in ADMIN_POSTS:
        assert client.post(_fill(url, world), data=data).status_code == 403, url
    page = _page(client.get(_fill("/staff/requests/{request}", world)))
    assert "Resend the link to this address" in page  # support may resend
    assert "Confirm on behalf" not in page and "An administrator can" in page
    assert fresh(world["request"].id).party_for(world["eva"].id).confirmed_at is None
    client.post("/logout")
    make.account("boss", staff=True, staff_role="admin")
    log_in("boss")
    url, data = ADMIN_POSTS[2]
    assert client.post(_fill(url, world), data=data).status_code == 302
    assert fresh(world["request"].id).party_for(world["eva"].id).confirmed_at is not None


def test_staff_command_adds_lists_and_removes(runner, make):
    make.account("helper")
    result = runner.invoke(args=["staff", "add", "helper", "--role", "support"])
    assert result.exit_code == 0, result.output
    helper = db.session.scalar(db.select(Account).filter_by(login="helper"))
    db.session.refresh(helper)
    assert (helper.is_staff, helper.staff_role) == (True, "support")
    assert "helper" in runner.invoke(args=["staff", "list"]).output
    assert runner.invoke(args=["staff", "add", "helper", "--role", "king"]).exit_code != 0
    assert runner.invoke(args=["staff", "add", "nobody"]).exit_code != 0
    assert runner.invoke(args=["staff", "remove", "helper"]).exit_code == 0
    db.session.refresh(helper)
    assert (helper.is_staff, helper.staff_role) == (False, None)
    events = db.session.scalars(db.select(AuditEvent.action).filter_by(channel="cli")).all()
    assert events == ["staff_role_set", "staff_role_removed"]


# ---------------------------------------------------------------- the parties' history
def _event_ids(page):
    return re.findall(r'data-event="(\d+)"', page)


def test_party_history_and_staff_timeline_list_the_same_events(client, world, log_in, smtp):
    deliver()
    link = link_for(smtp, "eva@dead.test")
    client.post(link, data={"confirm": "1"}, headers={"User-Agent": "EvaPhone/1.0"})
    log_in("staffer")
    client.post(
        _fill("/staff/requests/{request}/parties/{jan_id}/confirm", world),
        data={"reason": "Asked at the counter", "reference": "ID card 123"},
    )
    client.post("/logout")
    log_in("eva")
    party_page = _page(client.get(_fill("/transfers/requests/{request}", world)))
    client.post("/logout")
    log_in("staffer")
    staff_page = _page(client.get(_fill("/staff/requests/{request}", world)))
    assert _event_ids(party_page) == _event_ids(staff_page)
    assert len(_event_ids(party_page)) >= 4  # requested, confirmed twice, fully confirmed
    assert "by our support" in party_page and "Petr Support" not in party_page
    assert "Asked at the counter" in party_page
    assert "EvaPhone/1.0" in party_page  # her own device
    log_in("jan")
    jan_page = _page(client.get(_fill("/transfers/requests/{request}", world)))
    assert "EvaPhone/1.0" not in jan_page and "by Eva Svobodová" in jan_page


# ---------------------------------------------------------------- approval and settings
def _confirm_all(client, world, log_in):
    for login in ("jan", "eva"):
        log_in(login)
        client.post(_fill("/transfers/requests/{request}/answer", world), data={"confirm": "1"})
        client.post("/logout")


def test_without_approval_a_confirmed_request_executes(client, world, log_in):
    _confirm_all(client, world, log_in)
    deliver()
    assert fresh(world["request"].id).state == "executed"


def test_with_approval_a_request_waits_until_staff_approve(app, client, world, log_in):
    app.config["REQUIRE_APPROVAL"] = True
    _confirm_all(client, world, log_in)
    deliver()
    assert fresh(world["request"].id).state == "approval"
    log_in("eva")
    assert "Awaiting approval by the provider" in _page(
        client.get(_fill("/transfers/requests/{request}", world))
    )
    client.post("/logout")
    log_in("staffer")
    queue = _page(client.get("/staff/approvals"))
    assert f'data-request="{world["request"].id}"' in queue
    client.post(_fill("/staff/requests/{request}/approve", world))
    deliver()
    assert fresh(world["request"].id).state == "executed"
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="transfer_approved"))
    assert event.channel == "staff" and event.actor_id == world["staffer"].id
    assert f'data-request="{world["request"].id}"' not in _page(client.get("/staff/approvals"))


def test_staff_decline_an_awaiting_request_with_a_reason(app, client, world, log_in, smtp):
    app.config["REQUIRE_APPROVAL"] = True
    _confirm_all(client, world, log_in)
    log_in("staffer")
    url = _fill("/staff/requests/{request}/reject", world)
    client.post(url, data={"reason": ""})
    assert fresh(world["request"].id).state == "approval"
    client.post(url, data={"reason": "The payer's contract has ended"})
    assert fresh(world["request"].id).state == "declined"
    deliver()
    [mail] = [m for m in smtp.to("jan@novak.cz") if "declined" in m["Subject"]]
    assert "not approved by our support" in text_of(mail)
    assert "The payer's contract has ended" in text_of(mail)
    assert client.post(_fill("/staff/requests/{request}/approve", world)).status_code == 302
    assert fresh(world["request"].id).state == "declined"


def test_admin_settings_change_lifetime_approval_and_support_contact(client, make, world, log_in):
    make.account("helper", staff=True, staff_role="support")
    log_in("helper")
    assert client.get("/staff/settings").status_code == 403
    assert client.post("/staff/settings", data={"REQUIRE_APPROVAL": "y"}).status_code == 403
    client.post("/logout")
    log_in("staffer")
    data = {
        "TRANSFER_EXPIRY_DAYS": "5",
        "REMINDER_DAYS_BEFORE": "7",
        "REQUIRE_APPROVAL": "y",
        "SUPPORT_EMAIL": "help@provider.test",
    }
    page = _page(client.post("/staff/settings", data=data))
    assert "The reminder must go out before the request expires." in page
    data["REMINDER_DAYS_BEFORE"] = "1"
    client.post("/staff/settings", data=data)
    page = _page(client.get("/staff/settings"))
    assert 'value="5"' in page and 'value="help@provider.test"' in page
    changed = db.session.scalars(db.select(AuditEvent).filter_by(action="setting_changed")).all()
    assert {e.object_id for e in changed} == {
        "TRANSFER_EXPIRY_DAYS",
        "REMINDER_DAYS_BEFORE",
        "REQUIRE_APPROVAL",
        "SUPPORT_EMAIL",
    }
    # A new request lives five days, and once confirmed waits for approval.
    other = push(make, world["eva"], world["jan"], make.service(world["eva"], domain="eva.cz"))
    lifetime = other.expires_at - other.created_at
    assert round(lifetime.total_seconds() / 86400) == 5
    assert "help@provider.test" in staff_ops.mailer.support_address()
    for value in ("0", "91", "x"):
        page = _page(client.post("/staff/settings", data=data | {"TRANSFER_EXPIRY_DAYS": value}))
        assert "Between 1 and 90 days" in page or "Please enter a number" in page


# ---------------------------------------------------------------- invitation (accounts feature)
def test_invite_button_only_when_the_accounts_feature_provides_it(
    client, world, log_in, monkeypatch
):
    log_in("staffer")
    url = _fill("/staff/customers/{jan}", world)
    invite_url = _fill("/staff/customers/{jan}/invite", world)
    if not invite_available():  # until accounts.operations.invite lands
        assert invite_url not in _page(client.get(url))
        assert client.post(invite_url).status_code == 404
    calls = []
    fake = types.ModuleType("cession_app.accounts.operations")
    fake.invite = lambda account, *, actor=None: calls.append((account.id, actor.id)) or True
    monkeypatch.setitem(sys.modules, "cession_app.accounts.operations", fake)
    monkeypatch.setattr(accounts_package, "operations", fake, raising=False)
    assert invite_url in _page(client.get(url))
    page = _page(client.post(invite_url, follow_redirects=True))
    assert "An invitation to set a password has been sent." in page
    assert calls == [(world["jan"].id, world["staffer"].id)]


def test_staff_see_a_customers_sessions_and_sign_them_all_out(app, make, world, log_in):
    jan_client = app.test_client()
    jan_client.post("/login", data={"login": "jan", "password": PASSWORD})
    assert jan_client.get("/services/").status_code == 200
    staff_client = log_in("staffer")
    page = _page(staff_client.get(_fill("/staff/customers/{jan}", world)))
    assert "Sign out of all sessions" in page
    page = _page(
        staff_client.post(_fill("/staff/customers/{jan}/sign-out", world), follow_redirects=True)
    )
    assert "1 session ended." in page
    assert jan_client.get("/services/").status_code == 302  # back to the log-in page
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="sessions_ended"))
    assert event.channel == "staff" and event.details == {"count": 1}
