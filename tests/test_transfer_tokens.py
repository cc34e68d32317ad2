"""Confirmation links: signed, bound to request and account, working once, until expiry."""

import re
import time

import pytest
from itsdangerous import TimestampSigner

from cession_app import tokens
from cession_app.transfers import operations
from tests.lifecycle_helpers import deliver, fresh, link_for, push


@pytest.fixture
def transfer(app, make):
    """A push request from novak to svoboda, both still to confirm; returns (request, accounts)."""
    novak = make.account("novak")
    svoboda = make.account("svoboda")
    web = make.service(novak, domain="novak.cz")
    return push(make, novak, svoboda, web), novak, svoboda


def link(req, account, token=None):
    """The link page's path for ``account`` (its genuine token unless given one)."""
    token = token or operations.confirm_token(req, req.party_for(account.id))
    return f"/transfers/requests/{req.id}/respond/{token}"


def nothing_changed(req):
    """The request still awaits everyone's answer."""
    req = fresh(req.id)
    return req.state == "awaiting" and not any(p.has_acted for p in req.parties)


def test_get_of_a_link_changes_nothing(client, transfer):
    req, novak, _ = transfer
    for _ in range(3):
        page = client.get(link(req, novak))
        assert page.status_code == 200 and "Confirm the transfer" in page.text
    assert nothing_changed(req)


def test_tampered_token(client, transfer):
    req, novak, _ = transfer
    token = operations.confirm_token(req, req.party_for(novak.id))
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in (tampered, "garbage", token.replace(".", "", 1)):
        for method in (client.get, client.post):
            response = method(link(req, novak, bad), data={"confirm": "1"})
            assert response.status_code == 400
            assert "This confirmation link is not valid" in response.text
    assert nothing_changed(req)


def test_wrong_purpose_token(client, transfer):
    req, novak, _ = transfer
    party = req.party_for(novak.id)
    payload = {"r": req.id, "a": novak.id, "f": operations.party_fingerprint(req, party)}
    token = tokens.make_token("password-reset", payload)
    response = client.post(link(req, novak, token), data={"confirm": "1"})
    assert response.status_code == 400 and "not valid" in response.text
    assert nothing_changed(req)


def test_expired_token(client, transfer, monkeypatch):
    req, novak, _ = transfer
    days = 15 * 86400
    with monkeypatch.context() as patched:
        patched.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - days)
        token = operations.confirm_token(req, req.party_for(novak.id))
    response = client.post(link(req, novak, token), data={"confirm": "1"})
    assert response.status_code == 410 and "has expired" in response.text
    assert nothing_changed(req)


def test_link_stops_working_at_the_requests_expiry(client, transfer):
    req, novak, _ = transfer
    from cession_app.extensions import db
    from cession_app.models.base import utcnow

    fresh(req.id).expires_at = utcnow()
    db.session.commit()
    response = client.get(link(req, novak))
    assert response.status_code == 410 and "has expired" in response.text


def test_used_link(client, transfer):
    req, novak, _ = transfer
    url = link(req, novak)
    assert client.post(url, data={"confirm": "1"}).status_code == 200
    for method in (client.get, client.post):
        response = method(url, data={"decline": "1"})
        assert response.status_code == 410 and "already been used" in response.text
    req = fresh(req.id)
    assert req.state == "awaiting" and req.party_for(novak.id).declined_at is None


def test_link_stops_working_when_the_request_ends(client, transfer):
    req, novak, svoboda = transfer
    url = link(req, svoboda)
    operations.cancel(req, novak)
    response = client.post(url, data={"confirm": "1"})
    assert response.status_code == 410 and "no longer awaits confirmation" in response.text
    assert "Cancelled" in response.text
    assert fresh(req.id).party_for(svoboda.id).confirmed_at is None


def test_wrong_request_and_wrong_account(client, make, transfer):
    req, novak, svoboda = transfer
    other = push(make, svoboda, novak, make.service(svoboda, domain="svoboda.cz"))
    token_for_req = operations.confirm_token(req, req.party_for(novak.id))
    response = client.post(link(other, novak, token_for_req), data={"confirm": "1"})
    assert response.status_code == 400 and "belongs to another request" in response.text

    stranger = make.account("stranger")
    forged = tokens.make_token(operations.CONFIRM_PURPOSE, {"r": req.id, "a": stranger.id, "f": ""})
    response = client.post(link(req, stranger, forged), data={"confirm": "1"})
    assert response.status_code == 400 and "not made for this request" in response.text
    assert nothing_changed(req) and nothing_changed(other)


def test_notified_only_account_has_no_link(client, make):
    novak = make.account("novak")
    accountant = make.account("accountant")
    svoboda = make.account("svoboda")
    req = push(make, novak, svoboda, make.service(novak, domain="n.cz", payer=accountant))
    party = req.party_for(accountant.id)
    payload = {"r": req.id, "a": accountant.id, "f": operations.party_fingerprint(req, party)}
    token = tokens.make_token(operations.CONFIRM_PURPOSE, payload)
    response = client.post(link(req, accountant, token), data={"confirm": "1"})
    assert response.status_code == 400
    assert nothing_changed(req)


def test_old_links_survive_key_rotation(app, client, transfer):
    req, novak, _ = transfer
    url = link(req, novak)
    app.config.update(SECRET_KEY="a-new-secret", SECRET_KEY_FALLBACKS=["test-secret"])
    assert client.get(url).status_code == 200
    assert client.get(link(req, novak)).status_code == 200  # new links use the new key
    app.config.update(SECRET_KEY_FALLBACKS=[])
    assert client.get(url).status_code == 400  # the old key is gone: the old link is not valid
    assert nothing_changed(req)


def test_neither_button_changes_nothing(client, transfer):
    req, novak, _ = transfer
    response = client.post(link(req, novak), data={})
    assert response.status_code == 200 and "Please choose whether" in response.text
    assert nothing_changed(req)


def test_link_page_speaks_the_partys_language_and_time_zone(client, make):
    novak = make.account("novak", language="de", timezone="Asia/Tokyo")
    svoboda = make.account("svoboda")
    req = push(make, novak, svoboda, make.service(novak, domain="novak.cz"))
    page = client.get(link(req, novak))
    assert '<html lang="de">' in page.text
    assert page.status_code == 200


def test_post_needs_the_forms_csrf_token(app, client, transfer, smtp):
    app.config["WTF_CSRF_ENABLED"] = True  # as in production
    req, novak, _ = transfer
    deliver()
    url = link_for(smtp, novak.email)
    response = client.post(url, data={"confirm": "1"})
    assert response.status_code == 400
    assert nothing_changed(req)
    page = client.get(url).text
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(url, data={"confirm": "1", "csrf_token": csrf})
    assert response.status_code == 200 and "you have confirmed" in response.text
    assert fresh(req.id).party_for(novak.id).confirmed_at is not None


def test_a_link_opened_before_still_expires_and_stays_its_own(client, transfer, monkeypatch):
    """A verified token is kept per process: opening it again checks its age the same way,
    gives a copy of its payload, and never serves another purpose."""
    req, novak, _ = transfer
    token = operations.confirm_token(req, req.party_for(novak.id))
    assert client.get(link(req, novak, token)).status_code == 200
    with client.application.test_request_context():
        payload = tokens.load_token(operations.CONFIRM_PURPOSE, token, max_age=60)
        payload["a"] = -1
        assert tokens.load_token(operations.CONFIRM_PURPOSE, token, max_age=60)["a"] == novak.id
        with pytest.raises(tokens.TokenInvalid):
            tokens.load_token("password-reset", token, max_age=60)
    later = int(time.time()) + 15 * 86400
    with monkeypatch.context() as patched:
        patched.setattr(TimestampSigner, "get_timestamp", lambda self: later)
        response = client.get(link(req, novak, token))
    assert response.status_code == 410 and "has expired" in response.text


def test_a_kept_payload_is_copied_to_its_depth(app):
    """Each load of a kept token gives its own copy, nested dicts and lists included."""
    payload = {"r": 1, "items": [{"id": 2, "tags": ["a"]}], "pair": [3, None], "ok": True}
    with app.test_request_context():
        token = tokens.make_token("test-copy", payload)
        first = tokens.load_token("test-copy", token, max_age=60)
        first["items"][0]["tags"].append("b")
        first["items"].append({})
        first["pair"][0] = 0
        second = tokens.load_token("test-copy", token, max_age=60)
    assert second == payload and second is not first
