"""The record schemas shared by import-data and the API: same checks, translated messages."""

from flask_babel import force_locale

from cession_app import records
from tests.test_dataio import sample


def test_a_record_problem_is_translated_with_field_and_code(app):
    raw = dict(sample()["services"][0], state="gone")
    for locale, words in {
        "en": 'field "state" must be one of',
        "pl": 'pole "state" musi mieć jedną z wartości',
        "cs": 'pole "state" musí být jedna z hodnot',
        "de": 'Feld "state" muss einer dieser Werte sein',
    }.items():
        with force_locale(locale):
            record, problems = records.check("services", raw)
        assert record is None
        assert [(p.field, p.code) for p in problems] == [("state", "choice")]
        assert problems[0].message.startswith(words), problems[0].message


def test_a_valid_record_is_converted_and_a_partial_one_needs_no_required_fields(app):
    record, problems = records.check("payment_requests", sample()["payment_requests"][0])
    assert problems == [] and str(record["amount"]) == "199.00"
    record, problems = records.check("services", {"auto_renew": False}, partial=True)
    assert problems == [] and record == {"auto_renew": False}
