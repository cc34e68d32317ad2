"""Sign-in with the reseller's OpenID Connect provider, against a small fake provider on
127.0.0.1: off unless configured; a valid answer signs in the account its claim names;
forged, replayed, foreign or unmatched answers sign in nobody."""

import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CLIENT_ID = "cession-test"


class FakeProvider:
    """Discovery, keys and a token endpoint; ``claims`` go into the next ID token."""

    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        self.signing_key = self.key
        self.codes = {}  # code -> the claims its token will carry
        self.server = make_server("127.0.0.1", 0, self.wsgi)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.issuer = self.url

    def wsgi(self, environ, start_response):
        request = Request(environ)
        routes = {
            "/.well-known/openid-configuration": self.discovery,
            "/jwks": lambda r: {"keys": [self.key.as_dict(private=False)]},
            "/token": self.token,
        }
        handler = routes.get(request.path)
        if handler is None:
            return Response("not found", 404)(environ, start_response)
        return Response(json.dumps(handler(request)), mimetype="application/json")(
            environ, start_response
        )

    def discovery(self, request):
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/jwks",
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def token(self, request):
        claims = self.codes.pop(request.form.get("code"), None)
        if claims is None:
            return {"error": "invalid_grant"}
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.signing_key)
        return {"access_token": "at", "token_type": "Bearer", "id_token": id_token}

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


@pytest.fixture(scope="module")
def provider():
    fake = FakeProvider()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def app_config(app_config, provider):
    app_config.update(
        OIDC_ISSUER=provider.url,
        OIDC_CLIENT_ID=CLIENT_ID,
        OIDC_CLIENT_SECRET="s3cret",
        OIDC_NAME="Reseller ID",
    )
    return app_config


@pytest.fixture
def novak(make):
    return make.account("novak", code="egeelhil8")


def _start(client):
    """Open the sign-in: (state, nonce) the app sent the browser to the provider with."""
    response = client.get("/login/oidc")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.location).query)
    assert response.location.startswith("http://127.0.0.1:")
    assert query["client_id"] == [CLIENT_ID] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == ["http://cession.test/login/oidc/callback"]
    return query["state"][0], query["nonce"][0]


def _claims(provider, nonce, **extra):
    now = int(time.time())
    return {
        "iss": provider.issuer,
        "aud": CLIENT_ID,
        "sub": "user-1",
        "iat": now,
        "exp": now + 300,
        "nonce": nonce,
        "customer_code": "egeelhil8",
        **extra,
    }


def _back(client, provider, state, claims, code="code-1"):
    provider.codes[code] = claims
    return client.get(f"/login/oidc/callback?code={code}&state={state}")


def _signed_in(client):
    return client.get("/my-data").status_code == 200


def test_the_log_in_page_offers_the_provider(client):
    assert "Sign in with Reseller ID" in client.get("/login").get_data(as_text=True)


def test_a_valid_answer_signs_in_the_matching_account(client, provider, novak):
    state, nonce = _start(client)
    response = _back(client, provider, state, _claims(provider, nonce))
    assert response.status_code == 302 and response.location == "/services/"
    assert _signed_in(client)


def test_the_claim_is_matched_case_insensitively_for_codes(client, provider, novak):
    state, nonce = _start(client)
    _back(client, provider, state, _claims(provider, nonce, customer_code="EGEELHIL8"))
    assert _signed_in(client)


@pytest.mark.parametrize(
    "change",
    [
        {"nonce": "another-nonce"},  # an answer to another sign-in
        {"aud": "another-client"},
        {"iss": "http://evil.example"},
        {"exp": int(time.time()) - 3600},
        {"customer_code": "nosuchcode"},
        {"customer_code": ["egeelhil8"]},
    ],
)
def test_bad_answers_sign_in_nobody(client, provider, novak, change):
    state, nonce = _start(client)
    response = _back(client, provider, state, {**_claims(provider, nonce), **change})
    assert response.status_code == 403 and not _signed_in(client)


def test_a_token_signed_with_another_key_is_refused(client, provider, novak):
    state, nonce = _start(client)
    provider.signing_key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    try:
        response = _back(client, provider, state, _claims(provider, nonce))
    finally:
        provider.signing_key = provider.key
    assert response.status_code == 403 and not _signed_in(client)


def test_a_callback_without_the_browsers_state_is_refused(app, client, provider, novak):
    """Login CSRF: an attacker's own callback URL, opened in the victim's browser."""
    state, nonce = _start(client)
    victim = app.test_client()
    response = _back(victim, provider, state, _claims(provider, nonce))
    assert response.status_code == 403 and not _signed_in(victim)


def test_a_replayed_callback_is_refused(client, provider, novak):
    state, nonce = _start(client)
    _back(client, provider, state, _claims(provider, nonce))
    client.post("/logout")
    response = _back(client, provider, state, _claims(provider, nonce), code="code-2")
    assert response.status_code == 403 and not _signed_in(client)


def test_staff_cannot_sign_in_with_the_provider(client, provider, make):
    make.account("dvorak", code="dvorakst1", staff=True)
    state, nonce = _start(client)
    response = _back(client, provider, state, _claims(provider, nonce, customer_code="dvorakst1"))
    assert response.status_code == 403 and not _signed_in(client)


def test_off_unless_configured(app, app_config):
    from cession_app import create_app

    app_config["OIDC_ISSUER"] = ""
    other = create_app(app_config)
    plain = other.test_client()
    assert plain.get("/login/oidc").status_code == 404
    assert "Sign in with" not in plain.get("/login").get_data(as_text=True)
    with other.app_context():  # no pooled connection left for the garbage collector to warn of
        from cession_app.extensions import db

        db.engine.dispose()
