"""The transfer record: a PDF of an ended request that names the parties and times, with a
hash that ``verify-record`` checks (issue 15, item 5)."""

import io
import re

import pytest
from pypdf import PdfReader

from cession_app.extensions import db
from cession_app.models import TransferRecord
from cession_app.transfers import operations
from cession_app.transfers import record as transfer_record
from tests.lifecycle_helpers import confirm_all, deliver, fresh, push


def pdf_text(data):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def executed(make, client, smtp):
    """novak's webhosting and domain moved to Svoboda (Czech), confirmed through the links."""
    novak = make.account("novak", name="Jan Novák", language="en")
    svoboda = make.account("svoboda", name="Petra Svobodová", language="cs")
    services = [
        make.service(novak, domain="novak.cz", kind="domain"),
        make.service(novak, domain="novak.cz", kind="webhosting"),
    ]
    request = push(make, novak, svoboda, *services)
    db.session.commit()
    deliver()
    confirm_all(client, smtp, request)
    deliver()
    assert fresh(request.id).state == "executed"
    return fresh(request.id)


def download(client, request_id):
    return client.get(f"/transfers/requests/{request_id}/record.pdf")


def test_the_record_names_parties_services_and_times_in_the_readers_language(
    executed, client, log_in
):
    log_in("svoboda")
    response = download(client, executed.id)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "no-store" in response.headers["Cache-Control"]
    text = pdf_text(response.data)
    record = db.session.get(TransferRecord, executed.id)
    assert "Jan Novák" in text and "Petra Svobodová" in text  # Czech and Polish letters kept
    assert "novak.cz" in text
    assert record.sha256 in text.replace("\n", "")
    assert "Záznam o převodu" in text  # Czech: the reader's language
    # when each party confirmed, and how: both through the link in their mail
    assert text.count("e-mailu") >= 2


def test_a_party_sees_its_own_address_and_never_the_other_partys(executed, client, log_in):
    record = transfer_record.record_of(executed)
    addresses = {e["actor"]: e["ip"] for e in record.content["events"] if e["actor"]}
    assert addresses  # the confirmations were recorded with the client's address
    log_in("novak")
    text = pdf_text(download(client, executed.id).data)
    assert "127.0.0.1" in text  # novak's own confirmation
    lines_with_address = [line for line in text.splitlines() if "127.0.0.1" in line]
    assert all("svoboda" not in line.lower() for line in lines_with_address)


def test_verify_record_accepts_the_issued_file_and_rejects_one_changed_byte(
    executed, client, log_in, app, tmp_path
):
    log_in("novak")
    data = download(client, executed.id).data
    good = tmp_path / "record.pdf"
    good.write_bytes(data)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["verify-record", str(good)])
    assert result.exit_code == 0, result.output
    assert f"VALID: record of transfer request {executed.id}" in result.output

    changed = bytearray(data)
    position = data.index(b"cession-record") - 40  # a byte in the middle of the file's text
    changed[position] = changed[position] ^ 0x01
    bad = tmp_path / "changed.pdf"
    bad.write_bytes(bytes(changed))
    result = runner.invoke(args=["verify-record", str(bad)])
    assert result.exit_code == 1
    assert "NOT VALID" in result.output and str(executed.id) in result.output


def test_verify_record_notices_a_changed_kept_record(executed, client, log_in, app, tmp_path):
    log_in("novak")
    path = tmp_path / "record.pdf"
    path.write_bytes(download(client, executed.id).data)
    record = transfer_record.record_of(executed)
    record.content = {**record.content, "domain": "other.cz"}
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["verify-record", str(path)])
    assert result.exit_code == 1 and "kept record itself has been changed" in result.output


def test_the_same_reader_gets_the_same_file_and_it_is_kept_once(executed, client, log_in):
    log_in("novak")
    first, second = download(client, executed.id).data, download(client, executed.id).data
    assert first == second
    assert len(transfer_record.record_of(executed).copies) == 1


def test_only_parties_and_staff_get_the_record_and_only_once_it_ended(
    make, executed, client, log_in
):
    make.account("outsider")
    make.account("helpdesk", staff=True)
    log_in("outsider")
    assert download(client, executed.id).status_code == 404
    client.post("/logout")
    log_in("helpdesk")
    staff_copy = download(client, executed.id)
    assert staff_copy.status_code == 200
    assert "127.0.0.1" in pdf_text(staff_copy.data)  # staff see where each action came from

    novak = executed.from_account
    other = make.account("third")
    open_request = push(make, novak, other, make.service(novak, domain="open.cz"))
    db.session.commit()
    assert download(client, open_request.id).status_code == 404


def test_a_declined_request_has_a_record_too(make, client, log_in, smtp):
    novak = make.account("novak")
    svoboda = make.account("svoboda")
    request = push(make, novak, svoboda, make.service(novak, domain="novak.cz"))
    db.session.commit()
    operations.decline(request, request.party_for(svoboda.id))
    db.session.commit()
    assert transfer_record.record_of(request).content["state"] == "declined"
    log_in("svoboda")
    page = client.get(f"/transfers/requests/{request.id}").get_data(as_text=True)
    assert f"/transfers/requests/{request.id}/record.pdf" in page
    assert "Declined" in pdf_text(download(client, request.id).data)


def test_the_record_writes_times_in_the_readers_date_style_with_the_zone(executed, client, log_in):
    log_in("svoboda")  # Czech, Europe/Prague
    text = pdf_text(download(client, executed.id).data)
    assert re.search(r"Vytvořeno: \d{1,2}\. \d{1,2}\. \d{4} \d{1,2}:\d{2} (SEČ|SELČ)", text), text
    assert not re.search(r"\d{1,2}:\d{2}:\d{2}", text)  # no seconds
