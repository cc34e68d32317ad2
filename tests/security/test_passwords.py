"""Passwords: argon2id, old scrypt hashes rehashed at log-in, and the same work for unknown
log-in names as for known ones (no user enumeration by timing)."""

import pytest
from argon2 import PasswordHasher
from werkzeug.security import generate_password_hash

from cession_app import passwords
from cession_app.accounts import operations
from cession_app.config import SETTINGS
from cession_app.extensions import db
from tests.conftest import login
from tests.factories import PASSWORD


def test_new_passwords_are_argon2id(app, make):
    acc = make.account("novak")
    assert acc.password_hash.startswith("$argon2id$")
    assert acc.check_password(PASSWORD) and not acc.check_password("wrong")


def test_a_scrypt_hash_is_rehashed_to_argon2id_at_log_in(client, make):
    acc = make.account("novak")
    acc.password_hash = generate_password_hash(PASSWORD, method="scrypt")
    db.session.commit()
    assert login(client, "novak", "wrong").status_code == 200
    db.session.refresh(acc)
    assert acc.password_hash.startswith("scrypt:")  # a failed log-in changes nothing
    assert login(client, "novak").status_code == 302
    db.session.refresh(acc)
    assert acc.password_hash.startswith("$argon2id$")
    assert acc.check_password(PASSWORD)


def test_a_hash_of_another_cost_is_rehashed(app, make):
    acc = make.account("novak")
    app.config["PASSWORD_HASH_TIME_COST"] = 2
    assert passwords.needs_rehash(acc.password_hash)
    assert operations.authenticate("novak", PASSWORD).account is acc
    assert not passwords.needs_rehash(acc.password_hash)


@pytest.mark.parametrize("stored", [None, "", "garbage", "$argon2id$broken", "md5$x$y"])
def test_odd_stored_hashes_match_no_password(stored):
    assert not passwords.verify(stored, "anything")


@pytest.fixture
def checks(monkeypatch):
    """The hashes the log-in checked, in order."""
    seen = []
    real = passwords.verify

    def counting(stored, password):
        seen.append(stored)
        return real(stored, password)

    monkeypatch.setattr(passwords, "verify", counting)
    return seen


@pytest.mark.parametrize("name", ["nobody", "nopass"])
def test_unknown_names_and_accounts_without_password_hash_a_dummy(client, make, checks, name):
    """Unknown names cost one hash check, as known ones do (the test counts checks, not
    time: timing on a shared machine is noise)."""
    make.account("novak")
    make.account("nopass").password_hash = None
    db.session.commit()
    login(client, "novak", "wrong")
    assert len(checks) == 1 and checks[0].startswith("$argon2id$")
    checks.clear()
    response = login(client, name, "wrong")
    assert len(checks) == 1 and checks[0] == passwords.dummy_hash()
    assert "The login name or password is not correct." in response.get_data(as_text=True)


def test_the_dummy_hash_has_the_configured_cost(app):
    assert not passwords.needs_rehash(passwords.dummy_hash())


def test_the_default_cost_is_owasps_7_mib_option():
    """m=7168 KiB, t=5, p=1: OWASP's equivalent of m=19456, t=2, p=1 with a third of the
    memory per log-in."""
    assert passwords._cost() == (5, 7168, 1)


def test_a_hash_of_the_earlier_default_cost_is_rehashed_at_log_in(app, client, make):
    """Hashes made with the earlier default (19 MiB, 2 passes) are replaced at the next
    successful log-in by one of the current default cost; a failed log-in changes nothing."""
    for name in SETTINGS:
        if name.startswith("PASSWORD_HASH_"):
            app.config[name] = SETTINGS[name][0]
    acc = make.account("novak")
    old = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash(PASSWORD)
    acc.password_hash = old
    db.session.commit()
    assert login(client, "novak", "wrong").status_code == 200
    db.session.refresh(acc)
    assert acc.password_hash == old
    assert login(client, "novak").status_code == 302
    db.session.refresh(acc)
    assert acc.password_hash.startswith("$argon2id$v=19$m=7168,t=5,p=1$")
    assert acc.check_password(PASSWORD) and not passwords.needs_rehash(acc.password_hash)
