"""Reseller data in and out: validation, upsert semantics, export format (dataio functions)."""

import copy
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from cession_app import dataio
from cession_app.extensions import db
from cession_app.models import Account, PaymentRequest, Service


def sample():
    """A small valid document: two accounts, three services, two payment requests."""
    return {
        "accounts": [
            {
                "code": "egeelhil8",
                "number": "100234",
                "login": "novak",
                "name": "Jan Novák",
                "email": "jan@novak.example",
                "language": "cs",
                "timezone": "Europe/Prague",
                "password": "novak-secret",
                "billing": {"name": "Jan Novák", "address": "Dlouhá 1, Praha", "vat_id": "CZ123"},
            },
            {
                "code": "wiorpask5",
                "number": "100310",
                "login": "kowalska",
                "name": "Anna Kowalska",
                "email": "anna@kowalska.example",
                "language": "pl",
                "timezone": "Europe/Warsaw",
                "staff": True,
                "billing": {"name": "Anna Kowalska", "address": "ul. Długa 5", "vat_id": ""},
            },
        ],
        "services": [
            _service("S-1001", "novak.cz", "webhosting", "egeelhil8", "egeelhil8"),
            _service("S-1002", "novak.cz", "eshop", "egeelhil8", "wiorpask5"),
            _service("S-1003", "kowalska.pl", "vps", "wiorpask5", "wiorpask5", state="expired"),
        ],
        "payment_requests": [
            _request("PR-1", "S-1001", paid_on=None),
            _request("PR-2", "S-1002", paid_on="2027-02-01"),
        ],
    }


def _service(ext_id, domain, kind, owner, payer, state="active"):
    return {
        "id": ext_id,
        "domain": domain,
        "kind": kind,
        "owner": owner,
        "payer": payer,
        "expires_on": "2027-03-01",
        "state": state,
        "auto_renew": True,
    }


def _request(ext_id, service, paid_on):
    return {
        "id": ext_id,
        "service": service,
        "issued_on": "2027-01-30",
        "due_on": "2027-02-09",
        "amount": "199.00",
        "currency": "CZK",
        "paid_on": paid_on,
    }


def without_passwords(doc):
    """The document as export writes it back: no passwords."""
    doc = copy.deepcopy(doc)
    for acc in doc["accounts"]:
        acc.pop("password", None)
    return doc


def run_import(doc):
    summary = dataio.import_data(doc)
    db.session.commit()
    return summary


def counts(summary):
    return {k: (c.created, c.updated, c.unchanged) for k, c in summary.items()}


def row_counts():
    return tuple(
        db.session.scalar(select(func.count()).select_from(m))
        for m in (Account, Service, PaymentRequest)
    )


def test_import_creates_everything_and_export_gives_it_back(app):
    summary = run_import(sample())
    assert counts(summary) == {
        "accounts": (2, 0, 0),
        "services": (3, 0, 0),
        "payment_requests": (2, 0, 0),
    }
    assert dataio.export_data() == without_passwords(sample())


def test_imported_values_are_stored_typed_and_password_hashed(app):
    run_import(sample())
    novak = db.session.scalar(select(Account).filter_by(code="egeelhil8"))
    assert novak.check_password("novak-secret") and "novak-secret" not in novak.password_hash
    assert (novak.billing_name, novak.vat_id, novak.is_staff) == ("Jan Novák", "CZ123", False)
    kowalska = db.session.scalar(select(Account).filter_by(code="wiorpask5"))
    assert kowalska.is_staff and kowalska.password_hash is None
    eshop = db.session.scalar(select(Service).filter_by(external_id="S-1002"))
    assert (eshop.owner_id, eshop.payer_id) == (novak.id, kowalska.id)
    assert eshop.expires_on == date(2027, 3, 1)
    pr = db.session.scalar(select(PaymentRequest).filter_by(external_id="PR-2"))
    assert pr.amount == Decimal("199.00") and pr.paid_on == date(2027, 2, 1)


def test_second_import_changes_nothing_and_issues_no_writes(app):
    run_import(sample())
    statements = []

    def capture(conn, cursor, statement, *args):
        statements.append(statement.split()[0].upper())

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        summary = run_import(sample())
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert counts(summary) == {
        "accounts": (0, 0, 2),
        "services": (0, 0, 3),
        "payment_requests": (0, 0, 2),
    }
    assert "UPDATE" not in statements and "INSERT" not in statements
    assert dataio.summary_line(summary).endswith("(0 changed)")


def test_reimport_records_payment_and_changed_fields(app):
    run_import(sample())
    doc = sample()
    doc["payment_requests"][0]["paid_on"] = "2027-02-05"
    doc["services"][0]["auto_renew"] = False
    summary = run_import(doc)
    assert counts(summary)["payment_requests"] == (0, 1, 1)
    assert counts(summary)["services"] == (0, 1, 2)
    pr = db.session.scalar(select(PaymentRequest).filter_by(external_id="PR-1"))
    assert pr.paid_on == date(2027, 2, 5)


def test_payment_request_is_made_out_to_the_payer_at_import(app):
    run_import(sample())
    kowalska = db.session.scalar(select(Account).filter_by(code="wiorpask5"))
    novak = db.session.scalar(select(Account).filter_by(code="egeelhil8"))
    pr = db.session.scalar(select(PaymentRequest).filter_by(external_id="PR-2"))
    assert pr.payer_id == kowalska.id
    # The payer changes later: the issued document stays made out to Kowalska.
    doc = sample()
    doc["services"][1]["payer"] = "egeelhil8"
    run_import(doc)
    db.session.expire_all()
    assert pr.payer_id == kowalska.id and pr.service.payer_id == novak.id


def test_omitted_password_keeps_the_existing_one(app):
    run_import(sample())
    doc = sample()
    del doc["accounts"][0]["password"]
    summary = run_import(doc)
    assert counts(summary)["accounts"] == (0, 0, 2)
    novak = db.session.scalar(select(Account).filter_by(code="egeelhil8"))
    assert novak.check_password("novak-secret")
    doc["accounts"][0]["password"] = "another-secret"
    assert counts(run_import(doc))["accounts"] == (0, 1, 1)
    assert novak.check_password("another-secret")


def test_account_without_code_gets_one_and_is_matched_by_login_later(app):
    doc = {"accounts": [sample()["accounts"][0]]}
    del doc["accounts"][0]["code"]
    run_import(doc)
    code = db.session.scalar(select(Account.code).filter_by(login="novak"))
    assert len(code) == 9 and code[:8].isalpha() and code[8].isdigit()
    assert counts(run_import(doc))["accounts"] == (0, 0, 1)
    assert row_counts() == (1, 0, 0)


def test_references_may_point_to_rows_already_in_the_database(app, make):
    owner = make.account("svoboda", code="svobodap2")
    make.service(owner, external_id="S-9")
    doc = {
        "services": [_service("S-1", "svoboda.cz", "domain", "svobodap2", "svobodap2")],
        "payment_requests": [_request("PR-9", "S-9", paid_on=None)],
    }
    assert counts(run_import(doc))["payment_requests"] == (1, 0, 0)


def test_logins_may_be_swapped_between_accounts_in_one_file(app):
    run_import(sample())
    doc = sample()
    a, b = doc["accounts"]
    a["login"], b["login"] = b["login"], a["login"]
    a["number"], b["number"] = b["number"], a["number"]
    assert counts(run_import(doc))["accounts"] == (0, 2, 0)
    assert db.session.scalar(select(Account.code).filter_by(login="novak")) == "wiorpask5"


def problems_of(doc):
    with pytest.raises(dataio.DataError) as caught:
        dataio.import_data(doc)
    db.session.rollback()
    return caught.value.problems


def changed(doc, section, index, **fields):
    doc = copy.deepcopy(doc)
    doc[section][index].update(fields)
    return doc


BAD_VALUES = [
    ("services", 2, {"state": "gone"}, 'services[2] (id S-1003): field "state"'),
    ("services", 0, {"expires_on": "01.03.2027"}, 'services[0] (id S-1001): field "expires_on"'),
    ("services", 0, {"expires_on": "2027-02-30"}, 'field "expires_on" is not a real date'),
    ("services", 1, {"auto_renew": "yes"}, 'services[1] (id S-1002): field "auto_renew"'),
    ("services", 1, {"kind": ""}, 'field "kind" must not be empty'),
    ("services", 1, {"domain": "Novak.CZ"}, 'field "domain" must be a domain name'),
    ("accounts", 0, {"language": "sk"}, 'accounts[0] (code egeelhil8): field "language"'),
    ("accounts", 1, {"timezone": "Europe/Atlantis"}, 'field "timezone"'),
    ("accounts", 1, {"email": "anna"}, 'accounts[1] (code wiorpask5): field "email"'),
    ("accounts", 0, {"number": 100234}, 'field "number" must be a string'),
    ("accounts", 0, {"password": "short"}, 'field "password" must be at least 8'),
    ("accounts", 0, {"billing": {"name": "X", "iban": "CZ00"}}, 'unknown field "iban"'),
    ("accounts", 1, {"billing": {"vat_id": 7}}, 'field "billing.vat_id" must be a string'),
    ("payment_requests", 0, {"amount": "19.999"}, 'payment_requests[0] (id PR-1): field "amount"'),
    ("payment_requests", 0, {"amount": 199.0}, "not a JSON number"),
    ("payment_requests", 1, {"currency": "Kč"}, 'payment_requests[1] (id PR-2): field "currency"'),
    ("payment_requests", 1, {"due_on": "2027-01-01"}, 'field "due_on" is before "issued_on"'),
    ("payment_requests", 1, {"paid_on": ""}, 'field "paid_on" must be a date'),
]


@pytest.mark.parametrize(("section", "index", "fields", "expected"), BAD_VALUES)
def test_a_bad_value_names_record_and_field_and_imports_nothing(
    app, section, index, fields, expected
):
    problems = problems_of(changed(sample(), section, index, **fields))
    assert len(problems) == 1 and expected in problems[0]
    assert row_counts() == (0, 0, 0)


def test_unknown_key_and_missing_field_are_errors(app):
    doc = changed(sample(), "services", 1, colour="red")
    del doc["payment_requests"][0]["currency"]
    doc["extras"] = []
    problems = problems_of(doc)
    assert 'services[1] (id S-1002): unknown field "colour"' in problems[1]
    assert 'payment_requests[0] (id PR-1): field "currency" is missing' in problems[2]
    assert 'document: unknown section "extras"' in problems[0]
    assert row_counts() == (0, 0, 0)


def test_dangling_references_are_errors(app):
    doc = changed(sample(), "services", 1, payer="nobody123")
    doc = changed(doc, "payment_requests", 0, service="S-404")
    problems = problems_of(doc)
    assert problems == [
        'services[1] (id S-1002): field "payer": no account with code "nobody123"'
        " in the file or the database",
        'payment_requests[0] (id PR-1): field "service": no service with id "S-404"'
        " in the file or the database",
    ]


def test_duplicates_in_the_file_and_against_the_database_are_errors(app, make):
    make.account("svoboda", code="svobodap2", number="555")
    doc = changed(sample(), "accounts", 1, login="novak")
    doc = changed(doc, "accounts", 0, number="555")
    doc["services"].append(doc["services"][0])
    text = "\n".join(problems_of(doc))
    assert 'accounts[1] (code wiorpask5): field "login" "novak" is also used by accounts[0]' in text
    assert 'accounts[0] (code egeelhil8): field "number" "555" belongs to account svobodap2' in text
    assert 'services[3] (id S-1001): field "id" "S-1001" is also used by services[0]' in text
    assert row_counts() == (1, 0, 0)


def test_a_bad_file_after_a_good_one_changes_nothing(app):
    run_import(sample())
    doc = changed(sample(), "payment_requests", 0, paid_on="2027-02-05")
    doc = changed(doc, "services", 2, state="closed")
    problems_of(doc)
    pr = db.session.scalar(select(PaymentRequest).filter_by(external_id="PR-1"))
    assert pr.paid_on is None


def test_shape_errors(app):
    assert problems_of([]) == [
        "the document must be a JSON object with accounts, services, payment_requests"
    ]
    assert problems_of({"services": {}}) == ["services: must be a list"]
    assert problems_of({"services": ["S-1"]}) == ['services[0]: must be an object, not "S-1"']


def test_export_writes_amounts_with_two_places_and_sorted_rows(app, make):
    acc = make.account("zed", code="zzzzzzzz1")
    make.account("amy", code="aaaaaaaa1")
    svc = make.service(acc, external_id="S-2")
    make.service(acc, external_id="S-10")
    make.payment_request(svc, amount="5", external_id="PR-1")
    data = dataio.export_data()
    assert [a["code"] for a in data["accounts"]] == ["aaaaaaaa1", "zzzzzzzz1"]
    assert [s["id"] for s in data["services"]] == ["S-10", "S-2"]
    assert data["payment_requests"][0]["amount"] == "5.00"
    assert "staff" not in data["accounts"][0] and "password" not in data["accounts"][0]
