"""API fixtures: keys made as the CLI makes them, and a client that sends them."""

import pytest

from cession_app.api.auth import create_key, revoke_key
from cession_app.extensions import db


class ApiClient:
    """The test client with a key in the Authorization header (JSON in, JSON out)."""

    def __init__(self, client, secret):
        self.client = client
        self.secret = secret

    def _headers(self, headers):
        found = {"Authorization": f"Bearer {self.secret}"} if self.secret else {}
        found.update(headers or {})
        return found

    def get(self, path, headers=None, **kwargs):
        """GET /api/v1<path>."""
        return self.client.get("/api/v1" + path, headers=self._headers(headers), **kwargs)

    def post(self, path, json=None, headers=None, **kwargs):
        """POST /api/v1<path> with a JSON body."""
        return self.client.post(
            "/api/v1" + path, json=json, headers=self._headers(headers), **kwargs
        )

    def put(self, path, json=None, headers=None, **kwargs):
        """PUT /api/v1<path> with a JSON body."""
        return self.client.put(
            "/api/v1" + path, json=json, headers=self._headers(headers), **kwargs
        )


@pytest.fixture
def api_key(app):
    """Make a key: api_key("read,sync", account=None) -> (ApiKey, secret)."""

    def _make(scopes="read,sync,transfers", account=None, name="test"):
        key, secret = create_key(name, scopes.split(","), account)
        db.session.commit()
        return key, secret

    return _make


@pytest.fixture
def api(client, api_key):
    """A client with a reseller key of every scope."""
    return ApiClient(client, api_key()[1])


@pytest.fixture
def api_as(client, api_key):
    """api_as(scopes, account=None): a client with a new key."""

    def _make(scopes="read,sync,transfers", account=None):
        return ApiClient(client, api_key(scopes, account)[1])

    return _make


__all__ = ["ApiClient", "revoke_key"]
