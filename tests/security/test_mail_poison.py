"""Poison addresses: refused at every entry (wizard, operation, import); one already queued
fails alone and never adds a header, a recipient or a stop to anybody else's mail."""

import json

import pytest
from sqlalchemy import select

from cession_app import addresses, mailer
from cession_app.extensions import db
from cession_app.models import Account, OutboxMessage, TransferRequest
from cession_app.transfers import operations
from tests.lifecycle_helpers import deliver, push
from tests.test_dataio import sample
from tests.test_mail_failures import put, row
from tests.test_transfer_wizard import run_url, step1, submit, text

NON_ASCII = "Please enter an address written in plain Latin letters"
CONTROL = "cannot contain line breaks or other control characters"
INVALID = "Please enter a valid e-mail address."

POISON = [
    ("jürgen@example.com", NON_ASCII),
    ("żółw@example.pl", NON_ASCII),
    ("a@example.com\r\nBcc: victim@example.org", CONTROL),
    ("a@example.com\nBcc: victim@example.org", CONTROL),
    ("a@example.com\rX-Injected: 1", CONTROL),
    ("a\x00@example.com", CONTROL),
    ("a\u200b@example.com", CONTROL),  # zero-width space: looks like a@example.com
    ("a\u2028b@example.com", CONTROL),  # Unicode line separator
    ("Jan Novák <a@example.com>", NON_ASCII),
    ("Jan <a@example.com>", INVALID),
    ("a@example.com, victim@example.org", INVALID),
    ("a@example.com;victim@example.org", INVALID),
    ('"a b"@example.com', INVALID),
    ("a@[127.0.0.1]", INVALID),
    ("a@localhost", INVALID),
    ("a@example.invalid", INVALID),
    ("a@@example.com", INVALID),
    ("a" * 250 + "@example.com", "at most 254 characters"),
]


def services_step(client, run, svc, email, **extra):
    """Post step 2 with an extra address to notify."""
    data = {"services": [svc.id], "change": "both", "notify_email": email, **extra}
    return client.post(f"{run}/services", data=data)


def nothing_went_to(*needles):
    """No request and no queued mail carries any of ``needles``."""
    notify = db.session.scalars(select(TransferRequest.notify_email)).all()
    recipients = db.session.scalars(select(OutboxMessage.recipient)).all()
    return not any(n in (v or "") for n in needles for v in notify + recipients)


@pytest.fixture
def at_step2(client, make, log_in):
    """novak's push wizard for novak.cz, at step 2; returns (run URL, service)."""
    me = make.account("novak", language="en")
    other = make.account("svoboda")
    svc = make.service(me, domain="novak.cz")
    log_in("novak")
    return run_url(step1(client, "push", "novak.cz", code=other.code)), svc


def test_wizard_refuses_every_poison_notify_address(client, at_step2):
    run, svc = at_step2
    for address, message in POISON:
        response = services_step(client, run, svc, address)
        if "\x00" in address:  # refused before any form sees it (test_input_limits.py)
            assert response.status_code == 400, f"{address!r} was accepted"
            continue
        assert response.status_code == 200, f"{address!r} was accepted"
        assert message in text(response), f"{address!r}: {message!r} not shown"
    assert db.session.scalars(select(OutboxMessage)).all() == []
    assert db.session.scalars(select(TransferRequest)).all() == []


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("pl", "Nie możemy wysyłać poczty na adresy z literami akcentowanymi"),
        ("cs", "Na adresy s písmeny s diakritikou"),
        ("de", "An Adressen mit Umlauten"),
    ],
)
def test_the_refusal_speaks_the_customers_language(client, make, log_in, language, message):
    me = make.account("novak", language=language)
    other = make.account("svoboda")
    svc = make.service(me, domain="novak.cz")
    log_in("novak")
    run = run_url(step1(client, "push", "novak.cz", code=other.code))
    response = services_step(client, run, svc, "jürgen@example.com")
    assert message in text(response)


def test_an_international_domain_is_taken_in_its_ascii_form_and_mail_arrives(
    client, at_step2, smtp
):
    run, svc = at_step2
    response = services_step(client, run, svc, "Office@Bücher.example")
    assert response.headers["Location"].endswith(f"{run}/review")
    submit(client, run)
    [request] = db.session.scalars(select(TransferRequest)).all()
    assert request.notify_email == "Office@xn--bcher-kva.example"
    deliver()
    assert len(smtp.to("Office@xn--bcher-kva.example")) == 1


def test_a_poison_address_kept_by_going_back_is_never_used(client, at_step2, smtp):
    """The Back button keeps what was typed; the operation checks the address again."""
    run, svc = at_step2
    poison = "a@example.com\r\nBcc: victim@example.org"
    services_step(client, run, svc, "fine@example.test")
    services_step(client, run, svc, poison, back="Back")
    response = submit(client, run)
    assert response.status_code in (200, 302)
    deliver()
    assert nothing_went_to("victim", "\r", "\n")
    assert not any("victim" in str(m) for m in smtp.messages)


def test_the_operation_refuses_a_poison_notify_address(app, make):
    novak = make.account("novak")
    svoboda = make.account("svoboda")
    web = make.service(novak, domain="novak.cz")
    for address, message in POISON:
        with pytest.raises(operations.TransferRefused) as refused:
            push(make, novak, svoboda, web, notify_email=address)
        [reason] = refused.value.reasons[None]
        assert reason.code == "notify_email" and message in str(reason), address
    assert db.session.scalars(select(TransferRequest)).all() == []
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_import_refuses_every_poison_account_address(runner, tmp_path):
    for address, message in POISON:
        doc = sample()
        doc["accounts"][1]["email"] = address
        path = tmp_path / "poison.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        result = runner.invoke(args=["import-data", str(path)])
        assert result.exit_code == 1, f"{address!r} was imported"
        assert 'accounts[1] (code wiorpask5): field "email"' in result.output
        assert message in result.output, f"{address!r}: {result.output}"
        assert "nothing was imported" in result.output
    assert db.session.scalars(select(Account)).all() == []


def test_import_stores_an_international_domain_in_ascii_and_again_changes_nothing(runner, tmp_path):
    doc = sample()
    doc["accounts"][0]["email"] = "jan@bücher.example"
    path = tmp_path / "idn.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert runner.invoke(args=["import-data", str(path)]).exit_code == 0
    novak = db.session.scalar(select(Account).filter_by(code="egeelhil8"))
    assert novak.email == "jan@xn--bcher-kva.example"
    again = runner.invoke(args=["import-data", str(path)])
    assert "(0 changed)" in again.output


def test_a_poison_address_already_queued_adds_no_recipient_and_stops_nothing(app, smtp):
    """Rows written by an earlier version (or straight into the database)."""
    ids = put(
        "first@example.test",
        "a@example.test\r\nBcc: victim@example.org",
        "jürgen@example.com",
        "last@example.test",
    )
    assert mailer.deliver_pending() == 2
    assert sorted(m["To"] for m in smtp.messages) == ["first@example.test", "last@example.test"]
    assert not any("victim" in str(m) or "X-Injected" in str(m) for m in smtp.messages)
    assert [row(i).status for i in ids] == ["sent", "failed", "failed", "sent"]


def test_every_control_character_is_refused(app):
    for code in list(range(0, 32)) + [127, 0x85, 0x2028, 0x2029, 0xFEFF]:
        with pytest.raises(addresses.AddressInvalid) as refused:
            addresses.normalize(f"a{chr(code)}b@example.com")
        assert refused.value.code == "control", hex(code)
