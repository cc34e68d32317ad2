"""Invitations: accounts imported without a password get a "set your password" mail, by
``flask invite`` (progress and a count) or the staff console's button (``invite``)."""

import re
import time

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from cession_app.accounts import operations
from cession_app.extensions import db
from cession_app.models import AuditEvent
from tests.conftest import login
from tests.lifecycle_helpers import deliver, outbox, text_of

LINK = re.compile(r"http://cession\.test(/password/invitation/[A-Za-z0-9_.\-]+)")
NEW = "my very first secret"


@pytest.fixture
def imported(make):
    """Two accounts without a password, one with."""
    accounts = []
    for name in ("anna", "piotr"):
        acc = make.account(name, language="pl")
        acc.password_hash = None
        accounts.append(acc)
    make.account("novak")
    db.session.commit()
    return accounts


def _invite(runner, *args):
    return runner.invoke(args=["invite", *args])


def test_invite_all_without_password_counts_and_mails_each(runner, imported, smtp):
    result = _invite(runner, "--all-without-password")
    assert result.exit_code == 0, result.output
    assert "Inviting: 2/2 accounts" in result.output
    assert "Invited 2 account(s); skipped 0." in result.output
    deliver()
    assert sorted(m["To"] for m in smtp.messages) == ["anna@example.test", "piotr@example.test"]
    body = text_of(smtp.to("anna@example.test")[0])
    assert "anna" in body and "7" in body and "hasło" in body  # in Polish, valid 7 days


def test_an_account_invited_in_the_last_day_is_skipped_unless_again(runner, imported):
    _invite(runner, "--all-without-password")
    again = _invite(runner, "--all-without-password")
    assert "Invited 0 account(s); skipped 2." in again.output
    assert "invited in the last 24 hours; use --again" in again.output
    assert "Invited 2 account(s)" in _invite(runner, "--all-without-password", "--again").output
    assert len(outbox("invitation")) == 4


def test_invite_by_code_skips_accounts_with_a_password(runner, imported, make):
    novak = db.session.scalar(select(operations.Account).filter_by(login="novak"))
    result = _invite(runner, imported[0].code.upper(), novak.code)
    assert "Invited 1 account(s); skipped 1." in result.output
    assert f"{novak.code}: skipped (has a password)" in result.output


def test_unknown_codes_invite_nobody(runner, imported):
    result = _invite(runner, imported[0].code, "nosuchcode")
    assert result.exit_code == 1 and "nosuchcode" in result.output
    assert outbox("invitation") == []


@pytest.mark.parametrize("args", [[], ["--all-without-password", "anna1"]])
def test_codes_or_all_but_not_both(runner, imported, args):
    result = _invite(runner, *args)
    assert result.exit_code == 2 and outbox("invitation") == []


def test_the_invitation_link_sets_the_password_once(client, runner, imported, smtp):
    _invite(runner, "--all-without-password")
    deliver()
    path = LINK.search(text_of(smtp.to("anna@example.test")[0])).group(1)
    page = client.get(path).get_data(as_text=True)
    assert "anna" in page
    response = client.post(path, data={"password": NEW, "confirm": NEW})
    assert response.status_code == 302
    assert login(client, "anna", NEW).status_code == 302
    assert client.get(path).status_code == 410


def test_the_invitation_link_lives_seven_days(client, imported, monkeypatch):
    for days, status in ((6, 200), (8, 410)):
        with monkeypatch.context() as patched:
            then = int(time.time()) - days * 86400
            patched.setattr(TimestampSigner, "get_timestamp", lambda self, t=then: t)
            token = operations.password_token(imported[0], operations.INVITATION)
        assert client.get(f"/password/invitation/{token}").status_code == status


def test_an_invitation_token_does_not_open_the_reset_page_or_vice_versa(client, imported):
    invitation = operations.password_token(imported[0], operations.INVITATION)
    reset = operations.password_token(imported[0], operations.RESET)
    assert client.get(f"/password/reset/{invitation}").status_code == 400
    assert client.get(f"/password/invitation/{reset}").status_code == 400


def test_invite_for_the_staff_console(app, imported, make):
    """The staff button calls ``invite(account, actor=staff)``: one event naming staff."""
    staff = make.account("dvorak", staff=True)
    assert operations.invite(imported[0], actor=staff) is True
    db.session.commit()
    assert operations.invite(imported[0], actor=staff) is False  # within 24 hours
    event = db.session.scalar(select(AuditEvent).filter_by(action="invitation_sent"))
    assert event.actor_id == staff.id and event.object_id == imported[0].code
