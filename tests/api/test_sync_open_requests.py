"""import-data and the API refuse to change the owner or payer of a service in an open
transfer request, unless forced (the request then fails); --dry-run changes nothing."""

import json

from sqlalchemy import select

from cession_app.extensions import db
from cession_app.models import Account, Service, TransferRequest
from cession_app.transfers import operations
from tests.test_dataio import changed, sample


def _write(tmp_path, doc):
    path = tmp_path / "data.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def _open_request(runner, tmp_path):
    assert runner.invoke(args=["import-data", _write(tmp_path, sample())]).exit_code == 0
    novak = db.session.scalar(select(Account).filter_by(code="egeelhil8"))
    other = db.session.scalar(select(Account).filter_by(code="wiorpask5"))
    web = db.session.scalar(select(Service).filter_by(external_id="S-1002"))  # paid
    return operations.create_request(
        novak, direction="push", domain="novak.cz", other=other, service_ids=[web.id]
    )


def test_an_owner_change_of_a_service_in_an_open_request_is_refused(runner, tmp_path, smtp):
    request = _open_request(runner, tmp_path)
    doc = changed(sample(), "services", 1, owner="wiorpask5")
    result = runner.invoke(args=["import-data", _write(tmp_path, doc)])
    assert result.exit_code == 1
    assert (
        'services[1] (id S-1002): field "owner": service S-1002 is in an open transfer request'
    ) in result.output
    db.session.expire_all()
    assert db.session.get(TransferRequest, request.id).state == "awaiting"


def test_force_changes_it_and_fails_the_request_with_the_reason(runner, tmp_path, smtp):
    request = _open_request(runner, tmp_path)
    doc = changed(sample(), "services", 1, owner="wiorpask5")
    result = runner.invoke(args=["import-data", "--force", _write(tmp_path, doc)])
    assert result.exit_code == 0, result.output
    assert "S-1002: owner egeelhil8 -> wiorpask5" in result.output
    assert f"transfer request {request.id} failed" in result.output
    db.session.expire_all()
    failed = db.session.get(TransferRequest, request.id)
    assert failed.state == "failed"
    assert "no longer has the owner or payer" in operations.failure_texts(failed)[0]


def test_dry_run_prints_the_changes_and_changes_nothing(runner, tmp_path):
    runner.invoke(args=["import-data", _write(tmp_path, sample())])
    doc = changed(sample(), "services", 1, payer="egeelhil8")
    result = runner.invoke(args=["import-data", "--dry-run", _write(tmp_path, doc)])
    assert result.exit_code == 0, result.output
    assert "Dry run of" in result.output and "nothing changed" in result.output
    assert "services: 0 created, 1 updated, 2 unchanged" in result.output
    assert "S-1002: payer wiorpask5 -> egeelhil8" in result.output
    db.session.expire_all()
    eshop = db.session.scalar(select(Service).filter_by(external_id="S-1002"))
    assert eshop.payer.code == "wiorpask5"


def test_the_api_refuses_too_unless_forced(runner, tmp_path, client, smtp, api_key):
    from tests.api.conftest import ApiClient

    request = _open_request(runner, tmp_path)
    api = ApiClient(client, api_key("read,sync")[1])
    svc = dict(sample()["services"][1], owner="wiorpask5")
    refused = api.put("/services/S-1002", json=svc)
    assert refused.status_code == 422
    assert "open transfer request" in refused.get_json()["detail"]
    forced = api.put("/services/S-1002?force=true", json=svc)
    assert forced.status_code == 200 and forced.get_json()["owner"] == "wiorpask5"
    assert api.get(f"/transfers/{request.id}").get_json()["state"] == "failed"


def test_a_large_import_shows_progress(runner, tmp_path):
    doc = sample()
    base = doc["services"][0]
    doc["services"] = [dict(base, id=f"S-{n}") for n in range(1200)]
    doc["payment_requests"] = []
    result = runner.invoke(args=["import-data", _write(tmp_path, doc)])
    assert result.exit_code == 0, result.output
    assert "Importing records" in result.output
    assert "services: 1200 created" in result.output
