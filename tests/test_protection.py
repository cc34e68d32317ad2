"""Protection settings (issue 15, item 6): lock outgoing transfers, a password to confirm,
automatic acceptance from chosen accounts, and the provider's lock after a move."""

from datetime import timedelta

import pyotp
import pytest

from cession_app.accounts import two_factor
from cession_app.extensions import db
from cession_app.models import AuditEvent
from cession_app.models.base import utcnow
from cession_app.transfers import operations
from tests.factories import PASSWORD
from tests.lifecycle_helpers import confirm_all, deliver, fresh, link_for, outbox, push


@pytest.fixture
def pair(app, make):
    novak = make.account("novak", language="en")
    svoboda = make.account("svoboda", language="en")
    return novak, svoboda, make.service(novak, domain="novak.cz")


def test_a_locked_account_refuses_push_and_pull_with_the_reason(pair, make):
    novak, svoboda, svc = pair
    novak.outgoing_locked = True
    db.session.commit()
    for initiator, other, direction in ((novak, svoboda, "push"), (svoboda, novak, "pull")):
        with pytest.raises(operations.TransferRefused) as refused:
            operations.create_request(
                initiator,
                direction=direction,
                domain="novak.cz",
                other=other,
                service_ids=[svc.id],
            )
        [reason] = next(iter(refused.value.reasons.values()))
        assert reason.code == "outgoing_locked"
        assert "locked transfers out of the account" in str(reason)
    # services moving *to* the locked account are not affected
    theirs = make.service(svoboda, domain="svoboda.cz")
    assert push(make, svoboda, novak, theirs).state == "awaiting"


def test_unlock_takes_a_day_and_is_announced(pair, client, log_in, smtp):
    novak, svoboda, svc = pair
    log_in("novak")
    client.post("/protection/lock")
    assert fresh_account(novak).outgoing_locked
    response = client.post("/protection/unlock", follow_redirects=True)
    assert "The lock ends in 24 hours" in response.get_data(as_text=True)
    [notice] = outbox("outgoing_unlock")
    assert notice.recipient == novak.email and "/protection/" in notice.text_body
    with pytest.raises(operations.TransferRefused):  # still locked for now
        push(None, novak, svoboda, svc)
    account = fresh_account(novak)
    account.outgoing_unlock_at = utcnow() - timedelta(seconds=1)  # a day has passed
    db.session.commit()
    assert push(None, account, svoboda, svc).state == "awaiting"
    actions = db.session.scalars(db.select(AuditEvent.action)).all()
    assert {"outgoing_locked", "outgoing_unlock_requested"} <= set(actions)


def test_lock_and_unlock_need_a_post_with_csrf(pair, app, client, log_in):
    novak, _svoboda, _svc = pair
    log_in("novak")
    assert client.get("/protection/lock").status_code == 405
    app.config["WTF_CSRF_ENABLED"] = True
    client.post("/protection/lock")  # no token
    assert not fresh_account(novak).outgoing_locked


def fresh_account(account):
    db.session.expire_all()
    return db.session.get(type(account), account.id)


def test_a_password_is_asked_when_the_account_wants_it(pair, client, smtp, make):
    novak, svoboda, svc = pair
    svoboda.confirm_with_password = True
    db.session.commit()
    request = push(make, novak, svoboda, svc)
    db.session.commit()
    deliver()
    link = link_for(smtp, svoboda.email)
    page = client.get(link).get_data(as_text=True)
    assert 'type="password"' in page and "ask for your password" in page
    wrong = client.post(link, data={"confirm": "1", "password": "nope"})
    assert "did not match" in wrong.get_data(as_text=True)
    assert fresh(request.id).party_for(svoboda.id).confirmed_at is None
    right = client.post(link, data={"confirm": "1", "password": PASSWORD})
    assert right.status_code == 200
    assert fresh(request.id).party_for(svoboda.id).confirmed_at is not None
    # novak did not ask for it: a plain confirmation works
    client.post(link_for(smtp, novak.email), data={"confirm": "1"})
    assert fresh(request.id).state == "confirmed"


def test_a_two_factor_code_confirms_instead_of_the_password(pair, client, smtp, make):
    novak, svoboda, svc = pair
    svoboda.confirm_with_password = True
    secret = two_factor.new_secret()
    two_factor.enable(svoboda, secret, pyotp.TOTP(secret).now())
    db.session.commit()
    request = push(make, novak, svoboda, svc)
    db.session.commit()
    deliver()
    link = link_for(smtp, svoboda.email)
    assert "authenticator app" in client.get(link).get_data(as_text=True)
    wrong = client.post(link, data={"confirm": "1", "password": "000000"})
    assert "or a two-factor code" in wrong.get_data(as_text=True)
    assert fresh(request.id).party_for(svoboda.id).confirmed_at is None
    code = pyotp.TOTP(secret).at(utcnow().timestamp() + 30)  # the next step: not used yet
    client.post(link, data={"confirm": "1", "password": code})
    assert fresh(request.id).party_for(svoboda.id).confirmed_at is not None


def test_guessing_the_confirmation_password_stops_after_five_tries(pair, client, smtp, make):
    novak, svoboda, svc = pair
    svoboda.confirm_with_password = True
    db.session.commit()
    push(make, novak, svoboda, svc)
    db.session.commit()
    deliver()
    link = link_for(smtp, svoboda.email)
    for _ in range(5):
        client.post(link, data={"confirm": "1", "password": "guess"})
    blocked = client.post(link, data={"confirm": "1", "password": PASSWORD})
    assert "too many times" in blocked.get_data(as_text=True)


def test_requests_from_a_listed_account_are_accepted_automatically(pair, client, smtp, make):
    novak, svoboda, svc = pair
    svoboda.auto_accept_from = novak.code.upper()  # codes match whatever their case
    db.session.commit()
    request = push(make, novak, svoboda, svc)
    db.session.commit()
    assert request.party_for(svoboda.id).confirmed_at is not None
    deliver()
    assert not smtp.to(novak.email) or link_for(smtp, novak.email)  # novak still confirms
    [notice] = smtp.to(svoboda.email)
    assert "accept transfers to you from" in notice.get_body(("plain",)).get_content()
    confirm_all_but(client, smtp, request, svoboda)
    deliver()
    assert fresh(request.id).state == "executed"


def confirm_all_but(client, smtp, request, skipped):
    for party in request.parties:
        if party.must_confirm and party.account_id != skipped.id:
            client.post(link_for(smtp, party.account.email), data={"confirm": "1"})


def test_auto_accept_never_gives_away_services(pair, make):
    """A pull by a listed account takes services *from* me: that is never automatic."""
    novak, svoboda, svc = pair
    novak.auto_accept_from = svoboda.code
    db.session.commit()
    request = operations.create_request(
        svoboda, direction="pull", domain="novak.cz", other=novak, service_ids=[svc.id]
    )
    assert request.party_for(novak.id).confirmed_at is None


def test_the_settings_page_saves_and_validates(pair, client, log_in):
    novak, _svoboda, _svc = pair
    log_in("novak")
    page = client.get("/protection/").get_data(as_text=True)
    assert "Lock transfers out of my account" in page
    bad = client.post("/protection/", data={"auto_accept_from": "abc, <script>"})
    text = bad.get_data(as_text=True)
    assert "is not a customer code" in text and "<script>" not in text
    client.post(
        "/protection/",
        data={"confirm_with_password": "y", "auto_accept_from": "Abc1, def2 abc1"},
    )
    account = fresh_account(novak)
    assert account.confirm_with_password and account.auto_accept_from == "abc1 def2"


def test_a_moved_service_is_locked_for_the_providers_days(app, pair, client, smtp, make):
    novak, svoboda, svc = pair
    app.config["TRANSFER_LOCK_DAYS_AFTER_MOVE"] = 60
    request = push(make, novak, svoboda, svc)
    db.session.commit()
    deliver()
    confirm_all(client, smtp, request)
    deliver()
    assert fresh(request.id).state == "executed"
    third = make.account("dvorak")
    with pytest.raises(operations.TransferRefused) as refused:
        push(make, fresh_account(svoboda), third, svc)
    [reason] = next(iter(refused.value.reasons.values()))
    assert reason.code == "recently_moved" and "again from" in str(reason)
    app.config["TRANSFER_LOCK_DAYS_AFTER_MOVE"] = 0
    assert push(make, fresh_account(svoboda), third, svc).state == "awaiting"
