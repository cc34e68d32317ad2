"""Two-factor authentication: enrolment with a QR code, log-in with a TOTP code, recovery
codes that work once, codes that cannot be replayed, staff sent to enrolment."""

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from cession_app.accounts import two_factor
from cession_app.extensions import db
from cession_app.models import Account, AuditEvent, RecoveryCode, TwoFactor
from tests.conftest import login
from tests.factories import PASSWORD

RECOVERY = r'<li><code translate="no">([a-z2-9]{5}-[a-z2-9]{5})</code></li>'


def _enrol(client):
    """Turn two-factor on through the pages; returns (secret, recovery codes)."""
    page = client.get("/my-data/two-factor").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page
    secret = re.search(r'<code class="code" translate="no">([A-Z2-7]+)</code>', page).group(1)
    response = client.post("/my-data/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    codes = re.findall(RECOVERY, response.text)
    return secret, codes


def _code_for_next_step(secret):
    """A code of the next 30-second step (accepted once the current step's was used)."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def _signed_in(client):
    return client.get("/my-data").status_code == 200


@pytest.fixture
def enrolled(app, client, make, log_in):
    make.account("novak")
    log_in("novak")
    secret, codes = _enrol(client)
    client.post("/logout")
    return secret, codes


def test_enrolment_shows_ten_recovery_codes_once_stored_hashed(app, client, make, log_in):
    acc = make.account("novak")
    log_in("novak")
    _secret, codes = _enrol(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    digests = db.session.scalars(select(RecoveryCode.digest)).all()
    assert len(digests) == 10 and not set(codes) & set(digests)
    assert db.session.get(TwoFactor, acc.id) is not None
    assert "two_factor_enabled" in db.session.scalars(select(AuditEvent.action)).all()
    assert "10 recovery codes are left." in client.get("/my-data").text


def test_a_wrong_first_code_turns_nothing_on(client, make, log_in):
    acc = make.account("novak")
    log_in("novak")
    client.get("/my-data/two-factor")
    response = client.post("/my-data/two-factor", data={"code": "000000"})
    assert "This code is not correct." in response.text
    assert db.session.get(TwoFactor, acc.id) is None


def test_log_in_then_needs_the_code(client, enrolled):
    secret, _codes = enrolled
    response = login(client, "novak")
    assert response.status_code == 302 and response.location.endswith("/login/code")
    assert not _signed_in(client)  # the password alone is not enough
    response = client.post("/login/code", data={"code": _code_for_next_step(secret)})
    assert response.status_code == 302
    assert _signed_in(client)


def test_a_code_works_once(app, client, enrolled):
    secret, _codes = enrolled
    code = _code_for_next_step(secret)
    login(client, "novak")
    client.post("/login/code", data={"code": code})
    other = app.test_client()
    login(other, "novak")
    response = other.post("/login/code", data={"code": code})
    assert "has been used already" in response.text and not _signed_in(other)


def test_a_recovery_code_works_once(app, client, enrolled):
    _secret, codes = enrolled
    login(client, "novak")
    assert client.post("/login/code", data={"code": codes[0].upper()}).status_code == 302
    assert _signed_in(client)
    other = app.test_client()
    login(other, "novak")
    assert other.post("/login/code", data={"code": codes[0]}).status_code == 200
    assert not _signed_in(other)


def test_wrong_codes_are_throttled(client, enrolled):
    secret, _codes = enrolled
    login(client, "novak")
    for _ in range(5):
        client.post("/login/code", data={"code": "123456"})
    response = client.post("/login/code", data={"code": _code_for_next_step(secret)})
    assert response.status_code == 429 and "Please try again in" in response.text
    assert not _signed_in(client)


def test_the_code_page_needs_the_password_first(client, enrolled):
    secret, _codes = enrolled
    response = client.post("/login/code", data={"code": _code_for_next_step(secret)})
    assert response.status_code == 302 and response.location.endswith("/login")
    assert not _signed_in(client)


def test_the_password_step_expires(client, enrolled, monkeypatch):
    secret, _codes = enrolled
    login(client, "novak")
    with client.session_transaction() as sess:
        sess["2fa_pending"] = {**sess["2fa_pending"], "t": sess["2fa_pending"]["t"] - 301}
    client.post("/login/code", data={"code": _code_for_next_step(secret)})
    assert not _signed_in(client)


def test_turning_off_needs_password_and_code(client, enrolled):
    secret, codes = enrolled
    login(client, "novak")
    client.post("/login/code", data={"code": codes[1]})
    off = {"tfoff-current": "wrong", "tfoff-code": codes[2]}
    assert (
        "The current password is not correct."
        in client.post("/my-data/two-factor/off", data=off).text
    )
    off = {"tfoff-current": PASSWORD, "tfoff-code": codes[2]}
    assert client.post("/my-data/two-factor/off", data=off).status_code == 302
    assert db.session.scalar(select(TwoFactor)) is None


def test_new_recovery_codes_replace_the_old_ones(client, enrolled):
    _secret, codes = enrolled
    login(client, "novak")
    client.post("/login/code", data={"code": codes[0]})
    response = client.post("/my-data/two-factor/recovery-codes", data={"tfnew-code": codes[1]})
    new = re.findall(RECOVERY, response.text)
    assert len(new) == 10
    client.post("/logout")
    login(client, "novak")
    assert client.post("/login/code", data={"code": codes[2]}).status_code == 200
    assert client.post("/login/code", data={"code": new[0]}).status_code == 302


@pytest.fixture
def staff_rule(app):
    app.config["TWO_FACTOR_REQUIRED_FOR_STAFF"] = True


def test_staff_without_two_factor_are_sent_to_enrolment(client, make, log_in, staff_rule):
    make.account("dvorak", staff=True)
    log_in("dvorak")
    for path in ("/staff/", "/staff/outbox", "/staff/search?q=x", "/billing/staff"):
        response = client.get(path)
        assert response.status_code == 302 and response.location.endswith("/my-data/two-factor")
    assert client.get("/services/").status_code == 200  # customer pages as before
    _enrol(client)
    assert client.get("/staff/").status_code == 200


def test_staff_cannot_turn_it_off_while_required(client, make, log_in, staff_rule):
    make.account("dvorak", staff=True)
    log_in("dvorak")
    _secret, codes = _enrol(client)
    off = {"tfoff-current": PASSWORD, "tfoff-code": codes[0]}
    client.post("/my-data/two-factor/off", data=off)
    assert db.session.scalar(select(TwoFactor)) is not None


def test_codes_of_the_neighbouring_steps_only(app, make):
    acc = make.account("novak")
    secret = two_factor.new_secret()
    now = time.time()
    assert two_factor.enable(acc, secret, pyotp.TOTP(secret).at(now), now=now) is not None
    db.session.commit()
    totp = pyotp.TOTP(secret)
    assert two_factor.verify(acc, totp.at(now + 90), now=now) is None  # three steps ahead
    assert two_factor.verify(acc, totp.at(now - 30), now=now) is None  # older than the last used
    assert two_factor.verify(acc, totp.at(now + 30), now=now) == "totp"


# ---------------------------------------------------------------- remembered browsers
def test_remembering_a_browser_is_off_by_default(client, enrolled):
    secret, _codes = enrolled
    login(client, "novak")
    page = client.get("/login/code").text
    assert 'name="remember"' not in page
    client.post("/login/code", data={"code": _code_for_next_step(secret), "remember": "y"})
    assert client.get_cookie("cession_device", path="/login") is None


@pytest.fixture
def remember(app):
    app.config["TWO_FACTOR_REMEMBER_DAYS"] = 30


def _remembered_log_in(client, secret):
    login(client, "novak")
    client.post("/login/code", data={"code": _code_for_next_step(secret), "remember": "y"})
    client.post("/logout")


def test_a_remembered_browser_skips_the_code(client, enrolled, remember):
    secret, _codes = enrolled
    login(client, "novak")
    assert "30 days" in client.get("/login/code").text
    _remembered_log_in(client, secret)
    response = login(client, "novak")
    assert response.status_code == 302 and response.location.endswith("/services/")
    assert _signed_in(client)


def test_the_cookie_does_not_help_without_the_password(client, enrolled, remember):
    secret, _codes = enrolled
    _remembered_log_in(client, secret)
    assert login(client, "novak", "wrong password").status_code == 200
    assert not _signed_in(client)


def test_a_new_password_forgets_remembered_browsers(client, enrolled, remember):
    secret, _codes = enrolled
    _remembered_log_in(client, secret)
    account = db.session.get(Account, db.session.scalar(select(TwoFactor)).account_id)
    account.set_password(PASSWORD)  # a new hash (new salt), the same password
    db.session.commit()
    response = login(client, "novak")
    assert response.location.endswith("/login/code")


def test_the_cookie_of_one_account_does_not_skip_anothers_code(
    app, client, enrolled, remember, make
):
    secret, _codes = enrolled
    _remembered_log_in(client, secret)
    make.account("eva")
    eva = db.session.scalar(select(Account).filter_by(login="eva"))
    eva_secret = two_factor.new_secret()
    assert two_factor.enable(eva, eva_secret, pyotp.TOTP(eva_secret).now()) is not None
    db.session.commit()
    response = login(client, "eva")
    assert response.location.endswith("/login/code")
