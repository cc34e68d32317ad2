"""url_builder: a list's links built once per page are the links url_for builds."""

import pytest
from flask import url_for

from cession_app.urls import url_builder


def test_the_built_urls_are_url_fors(app):
    with app.test_request_context():
        detail = url_builder("transfers.detail", "request_id")
        for number in (1, 42, 10**9):
            assert detail(number) == url_for("transfers.detail", request_id=number)


def test_a_part_that_is_no_number_is_refused(app):
    with app.test_request_context(), pytest.raises(ValueError):
        url_builder("services.detail", "external_id")


def test_fixed_urls_are_url_fors_kept_per_process_outside_tests(app):
    from cession_app.urls import fixed_url

    with app.test_request_context():
        assert fixed_url("static", filename="style.css") == url_for("static", filename="style.css")
    app.testing = False
    try:
        with app.test_request_context():
            first = fixed_url("services.index")
            assert first == url_for("services.index")
            assert fixed_url("services.index") is first  # kept
        with app.test_request_context("/", base_url="http://localhost/panel/"):
            assert fixed_url("services.index") == "/panel" + first  # per mount point
    finally:
        app.testing = True
