"""Requests are limited per API key (API_RATE_LIMIT), with a problem and Retry-After."""

from tests.api.conftest import ApiClient


def test_a_key_over_its_limit_gets_429_and_another_key_does_not(app, client, api_key):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    busy = ApiClient(client, api_key()[1])
    assert [busy.get("/accounts").status_code for _ in range(3)] == [200, 200, 200]
    over = busy.get("/accounts", headers={"Accept-Language": "de"})
    assert over.status_code == 429 and over.get_json()["code"] == "rate_limited"
    assert int(over.headers["Retry-After"]) > 0
    assert over.get_json()["title"].startswith("Zu viele Anfragen")
    assert ApiClient(client, api_key()[1]).get("/accounts").status_code == 200
