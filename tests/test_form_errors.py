"""Form errors are tied to their fields and summed up, linked, above the form; a skip link
leads past the navigation."""

from tests.test_transfer_wizard import step1, text


def test_errors_are_tied_to_their_field_and_summed_up(client, make, log_in):
    make.account("novak")
    log_in("novak")
    page = text(step1(client, "push", "", code=""))
    assert 'class="error-summary" role="alert"' in page
    assert '<a href="#domain">' in page
    domain_input = page[page.index("<input", page.index('for="domain"')) :]
    domain_input = domain_input[: domain_input.index(">")]
    assert 'aria-invalid="true"' in domain_input
    assert 'aria-describedby="domain-hint domain-error"' in domain_input or (
        'aria-describedby="domain-error"' in domain_input
    )
    assert 'id="domain-error"' in page


def test_a_valid_form_has_no_summary_and_every_page_a_skip_link(client):
    page = client.get("/login").text
    assert "error-summary" not in page and "aria-invalid" not in page
    assert '<a class="skip-link" href="#main">' in page and '<main id="main"' in page
