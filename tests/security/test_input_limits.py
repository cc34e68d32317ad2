"""Hostile input never gives a server error: too large bodies and too many fields (413),
huge page numbers (clamped), huge ids in URLs (404), NUL and control characters (400),
each with a clear, translated page; and a small fuzz over every route of the app."""

import re
from urllib.parse import quote

import pytest
from werkzeug.routing.converters import AnyConverter, NumberConverter
from werkzeug.test import encode_multipart

from cession_app.transfers import operations
from tests.lifecycle_helpers import push

HUGE = "9" * 25
FIELDS = (
    "login password domain code number services change notify_email q paid_on language"
    " timezone next confirm decline submit back auto_renew"
).split()
TOO_LARGE = "What you sent is too large"
BAD_CHARACTERS = "contains characters that cannot be used"


@pytest.fixture
def app_config(app_config):
    """Log-ins are not limited here (the fuzz logs in often); lists of two rows a page."""
    app_config.update(LOGIN_RATE_LIMIT="10000 per minute", PAGE_SIZE=2)
    return app_config


@pytest.fixture
def world(make):
    """Staff and two customers, a request between them, services and payment documents."""
    staff = make.account("staff", staff=True)
    jan = make.account("jan")
    eva = make.account("eva", code="evacode1")
    web = make.service(jan, domain="jan.cz")
    pr = make.payment_request(make.service(jan, domain="jan.cz", kind="eshop"))
    request = push(make, jan, eva, web)
    token = operations.confirm_token(request, request.party_for(eva.id))
    return {"staff": staff, "jan": jan, "request": request, "token": token, "pr": pr}


def _text(response):
    return response.get_data(as_text=True)


# ---------------------------------------------------------------- sizes
def test_a_form_larger_than_the_limit_answers_413(client):
    response = client.post("/login", data={"login": "x" * 2_000_000, "password": "x"})
    assert response.status_code == 413
    assert TOO_LARGE in _text(response)


def _multipart(client, url, parts):
    """POST ``parts`` fields as multipart/form-data (encoded here: no temporary file)."""
    boundary, body = encode_multipart({f"field{n}": "x" for n in range(parts)})
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_a_multipart_form_with_thousands_of_parts_answers_413(client):
    response = _multipart(client, "/login", 5000)
    assert response.status_code == 413
    assert TOO_LARGE in _text(response)


def test_an_urlencoded_form_with_thousands_of_fields_answers_413(client):
    body = "&".join(f"field{n}=x" for n in range(5000))
    response = client.post("/login", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413


def test_the_413_page_is_translated(client):
    response = client.post(
        "/login", data={"login": "x" * 2_000_000}, headers={"Accept-Language": "cs"}
    )
    assert response.status_code == 413
    assert "Odeslaná data jsou příliš velká" in _text(response)


# ---------------------------------------------------------------- page numbers
@pytest.mark.parametrize(
    "path", ["/transfers/?page={}", "/billing/?page={}", "/billing/staff?page={}&tpage={}"]
)
def test_any_page_number_shows_a_page(client, world, log_in, path):
    log_in("staff" if "staff" in path else "jan")
    for value in (HUGE, "9" * 5000, "-5", "0", "abc", "1e9", "٣", ""):
        response = client.get(path.format(value, value))
        assert response.status_code == 200, (value[:30], _text(response)[:300])


def test_a_page_past_the_end_shows_the_last_page(client, make, world, log_in):
    jan, eva = world["jan"], world["request"].to_account
    for domain in ("a.cz", "b.cz"):  # three requests of Jan's: two pages of two
        push(make, jan, eva, make.service(jan, domain=domain))
    log_in("jan")
    last = _text(client.get("/transfers/?page=2"))
    assert "jan.cz" in last  # the oldest request
    assert "jan.cz" in _text(client.get(f"/transfers/?page={HUGE}"))


# ---------------------------------------------------------------- ids in URLs
def _int_rules(app):
    for rule in app.url_map.iter_rules():
        if any(isinstance(c, NumberConverter) for c in rule._converters.values()):
            yield rule


def _fill(rule, values):
    """The rule's path with ``values`` put in by hand (converters refuse to build such)."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(values[m.group(1)]), rule.rule)


@pytest.mark.parametrize("number", [str(2**31), str(2**63), HUGE, "9" * 5000])
def test_huge_ids_in_every_url_answer_404(app, client, world, log_in, number):
    log_in("staff")
    rules = list(_int_rules(app))
    assert len(rules) >= 6  # requests, answers, resend, tax documents, ...
    for rule in rules:
        url = _fill(rule, {**_defaults(rule), **_numbers(rule, number)})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            assert response.status_code == 404, (method, url[:80], response.status_code)


def _numbers(rule, number):
    return {n: number for n, c in rule._converters.items() if isinstance(c, NumberConverter)}


def _defaults(rule):
    values = {}
    for name, converter in rule._converters.items():
        values[name] = sorted(converter.items)[0] if isinstance(converter, AnyConverter) else "x"
    return values


def test_the_largest_id_still_matches_its_route(client, world, log_in):
    log_in("jan")
    assert client.get(f"/transfers/requests/{2**31 - 1}").status_code == 404  # no such request
    assert client.get(f"/transfers/requests/{world['request'].id}").status_code == 200


# ---------------------------------------------------------------- NUL and control characters
def _send(client, log_in, where, value):
    if where == "log-in name":
        return client.post("/login", data={"login": value, "password": "x"})
    if where == "password":
        return client.post("/login", data={"login": "jan", "password": value})
    if where == "staff search":
        log_in("staff")
        return client.get("/billing/staff", query_string={"q": value})
    log_in("jan")
    data = {"domain": "jan.cz", "code": "evacode1", where.split()[-1]: value}
    return client.post("/transfers/wizard/push", data=data)


@pytest.mark.parametrize(
    "where",
    ["log-in name", "password", "wizard domain", "wizard code", "wizard login", "staff search"],
)
def test_control_characters_in_fields_answer_a_clear_400(client, world, log_in, where):
    for character in ("\x00", "\x01", "\x1b", "\x7f"):
        response = _send(client, log_in, where, f"jan{character}x")
        assert response.status_code == 400, repr(character)
        assert BAD_CHARACTERS in _text(response)


def test_nul_in_a_url_answers_400(client, world, log_in):
    log_in("jan")
    for url in ("/services/S-1%00", "/billing/documents/%00", "/transfers/wizard/run/%00/party"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert BAD_CHARACTERS in _text(response)


def test_nul_in_the_notify_address_on_step_2_answers_400(client, world, log_in):
    log_in("jan")
    run = client.post("/transfers/wizard/push", data={"domain": "jan.cz", "code": "evacode1"})
    url = run.headers["Location"]
    service = world["request"].items[0].service_id
    response = client.post(url, data={"services": [service], "notify_email": "a@b.cz\x00"})
    assert response.status_code == 400


def test_tabs_and_line_breaks_are_ordinary_input(client, world):
    response = client.post("/login", data={"login": "jan\t", "password": "a\r\nb"})
    assert response.status_code == 200  # refused as a wrong password, not as bad input
    assert BAD_CHARACTERS not in _text(response)


def test_the_400_page_is_translated(client):
    response = client.post("/login", data={"login": "\x00"}, headers={"Accept-Language": "de"})
    assert response.status_code == 400
    assert "Zeichen, die nicht verwendet werden können" in _text(response)


# ---------------------------------------------------------------- fuzz
HOSTILE = [
    HUGE,
    str(2**63),
    "-1",
    "\x00",
    "a\x00b",
    "x" * 100_000,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "..%2F..%2Fetc%2Fpasswd",
    "%ED%A0%80",  # a lone surrogate, percent-encoded
]


def _fuzz_urls(app, value):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "accounts.logout"):
            continue
        values = _defaults(rule)
        for name, converter in rule._converters.items():
            if not isinstance(converter, AnyConverter):
                values[name] = value[:200].replace("/", "")
        yield rule, _fill(rule, {k: _quote(v) for k, v in values.items()})


def _quote(value):
    return quote(str(value), safe="")


def test_fuzz_every_route_with_hostile_values_gives_no_server_error(app, client, world, log_in):
    log_in("staff")
    anonymous = app.test_client()
    errors, sent = [], 0
    for n, value in enumerate(HOSTILE):
        who = client if n % 2 == 0 else anonymous
        for rule, url in _fuzz_urls(app, value):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                field = FIELDS[sent % len(FIELDS)]  # the long value in one field at a time
                form = {name: value[:1000] for name in FIELDS} | {field: value}
                query = {"page": value, "tpage": value, "domain": value[:1000], "q": value}
                response = who.open(
                    url, method=method, query_string=query, data=form if method == "POST" else None
                )
                sent += 1
                # /healthz answers 503 by design while no worker runs
                if response.status_code >= 500 and rule.endpoint != "health.healthz":
                    errors.append(f"{method} {url[:60]} ({value[:12]!r}): {response.status_code}")
    for rule, url in _fuzz_urls(app, "1"):
        if "POST" in rule.methods:
            response = _multipart(client, url, 2000)
            sent += 1
            if response.status_code >= 500:
                errors.append(f"POST {url} (2000 parts): {response.status_code}")
    assert sent > 250
    assert not errors, "\n".join(errors)
