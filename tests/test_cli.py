"""The reseller's commands: import-data, export-data, seed-demo (through the Flask CLI)."""

import json
from datetime import date

from sqlalchemy import func, select

from cession_app import demo
from cession_app.extensions import db
from cession_app.models import Account, AuditEvent, PaymentRequest, Service
from tests.conftest import login
from tests.test_dataio import changed, row_counts, sample, without_passwords


def write(tmp_path, doc, name="data.json"):
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_import_then_export_round_trips_the_file(runner, tmp_path):
    result = runner.invoke(args=["import-data", write(tmp_path, sample())])
    assert result.exit_code == 0, result.output
    assert "accounts: 2 created, 0 updated, 0 unchanged" in result.output
    assert "payment requests: 2 created" in result.output
    out = tmp_path / "out.json"
    result = runner.invoke(args=["export-data", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8")) == without_passwords(sample())
    assert "Jan Novák" in out.read_text(encoding="utf-8")  # UTF-8 kept readable


def test_export_to_stdout_can_be_imported_again_without_changes(runner, tmp_path):
    runner.invoke(args=["import-data", write(tmp_path, sample())])
    exported = runner.invoke(args=["export-data"])
    assert exported.exit_code == 0
    assert json.loads(exported.stdout) == without_passwords(sample())
    again = runner.invoke(args=["import-data", write(tmp_path, json.loads(exported.stdout))])
    assert again.exit_code == 0
    assert "(0 changed)" in again.output
    assert "accounts: 0 created, 0 updated, 2 unchanged" in again.output


def test_an_import_that_changed_something_is_audited(runner, tmp_path):
    path = write(tmp_path, sample())
    runner.invoke(args=["import-data", path])
    runner.invoke(args=["import-data", path])
    events = list(db.session.scalars(select(AuditEvent)))
    assert [(e.action, e.object_id) for e in events] == [("data_imported", "data.json")]
    assert events[0].details == {
        "source": path,
        "accounts": [2, 0],
        "services": [3, 0],
        "payment_requests": [2, 0],
    }


def test_reimport_with_paid_on_records_the_payment(runner, tmp_path):
    runner.invoke(args=["import-data", write(tmp_path, sample())])
    doc = changed(sample(), "payment_requests", 0, paid_on="2027-02-03")
    result = runner.invoke(args=["import-data", write(tmp_path, doc)])
    assert "payment requests: 0 created, 1 updated, 1 unchanged (1 changed)" in result.output
    pr = db.session.scalar(select(PaymentRequest).filter_by(external_id="PR-1"))
    assert pr.paid_on == date(2027, 2, 3)


def test_a_file_with_one_bad_record_imports_nothing_and_exits_non_zero(runner, tmp_path):
    doc = changed(sample(), "services", 2, state="closed")
    result = runner.invoke(args=["import-data", write(tmp_path, doc)])
    assert result.exit_code == 1
    assert "nothing was imported" in result.output
    assert 'services[2] (id S-1003): field "state" must be one of' in result.output
    assert row_counts() == (0, 0, 0)


def test_invalid_json_is_reported(runner, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"accounts": [', encoding="utf-8")
    result = runner.invoke(args=["import-data", str(path)])
    assert result.exit_code == 1 and "not valid JSON" in result.output
    path.write_text('{"accounts": [], "accounts": []}', encoding="utf-8")
    result = runner.invoke(args=["import-data", str(path)])
    assert result.exit_code == 1 and 'the key "accounts" appears twice' in result.output


def test_missing_file_is_reported(runner, tmp_path):
    result = runner.invoke(args=["import-data", str(tmp_path / "nope.json")])
    assert result.exit_code == 2 and "nope.json" in result.output


def test_seed_demo_creates_the_promised_situations(runner, client):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    accounts = {a.login: a for a in db.session.scalars(select(Account))}
    assert {"novak", "kowalska", "mueller", "smith", "staff"} <= accounts.keys()
    assert {a.language for a in accounts.values()} == {"pl", "cs", "de", "en"}
    assert accounts["staff"].is_staff
    services = list(db.session.scalars(select(Service)))
    novak_kinds = {s.kind for s in services if s.domain == "novak.cz"}
    assert novak_kinds == {"webhosting", "eshop", "domain", "email"}
    assert any(s.state == "expired" and s.expires_on < date.today() for s in services)
    assert any(s.payer_id != s.owner_id for s in services)
    unpaid = [p for p in db.session.scalars(select(PaymentRequest)) if p.paid_on is None]
    assert len(unpaid) == 1 and unpaid[0].due_on >= date.today() >= unpaid[0].issued_on
    # Movable services: active, nothing unpaid, owned by a demo customer.
    movable = [s for s in services if s.state == "active" and s.id != unpaid[0].service_id]
    assert {s.owner.login for s in movable} >= {"kowalska", "mueller", "novak"}


def test_demo_log_ins_from_the_readme_work(runner, client):
    runner.invoke(args=["seed-demo"])
    for login_name, password in demo.PASSWORDS.items():
        assert login(client, login_name, password).status_code == 302, login_name
        client.post("/logout")
    login(client, "kowalska", demo.PASSWORDS["kowalska"])
    page = client.get("/services/").get_data(as_text=True)
    assert "kowalska.pl" in page and "kwiaty-kowalska.pl" in page


def test_seed_demo_twice_changes_nothing_and_if_empty_skips(runner):
    runner.invoke(args=["seed-demo"])
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "(0 changed)" in again.output
    skipped = runner.invoke(args=["seed-demo", "--if-empty"])
    assert skipped.exit_code == 0 and "demo data not loaded" in skipped.output


def test_seed_demo_if_empty_leaves_a_resellers_data_alone(runner, make):
    make.account("novak")
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "demo data not loaded" in result.output
    assert db.session.scalar(select(func.count()).select_from(Account)) == 1


def test_seed_demo_if_empty_loads_into_an_empty_database(runner):
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0 and "accounts: 6 created" in result.output
    assert row_counts() == (6, 16, 5)


def test_readme_documents_every_field_and_demo_log_in():
    from pathlib import Path

    from cession_app import dataio

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    data_format = readme.split("## Data format", 1)[1]
    for section, fields in dataio.FIELDS.items():
        table = data_format.split(f"### {section}", 1)[1]
        for field in fields:
            assert f"| `{field}` |" in table, (section, field)
    for login_name, password in demo.PASSWORDS.items():
        assert f"| `{login_name}` | `{password}` |" in readme
