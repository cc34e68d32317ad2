"""Idempotency-Key on POST: a repeat with the same key gets the first answer again."""

import hashlib
import json
from functools import wraps

from flask import g, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import IdempotentAnswer
from .problems import ApiProblem

MAX_KEY = 200


def _key():
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not key or len(key) > MAX_KEY or not (key.isascii() and key.isprintable()):
        raise ApiProblem(
            400,
            "bad_idempotency_key",
            _l("Idempotency-Key must be 1 to %(max)d printable ASCII characters.", max=MAX_KEY),
        )
    return key


def _fingerprint():
    raw = request.method.encode() + b" " + request.path.encode() + b"\n"
    return hashlib.sha256(raw + request.get_data(cache=True)).hexdigest()


def _replay(stored, fingerprint):
    if stored.fingerprint != fingerprint:
        raise ApiProblem(
            422,
            "idempotency_key_reused",
            _l("This Idempotency-Key was used for a different request."),
        )
    answer = _json_response(stored.body, stored.status)
    answer.headers["Idempotent-Replayed"] = "true"
    return answer


def _json_response(body, status):
    from flask import current_app

    answer = current_app.response_class(
        json.dumps(body), status=status, mimetype="application/json"
    )
    if status >= 400:
        answer.mimetype = "application/problem+json"
    return answer


def _store(key, fingerprint, answer):
    db.session.rollback()  # anything a refused operation left behind
    db.session.add(
        IdempotentAnswer(
            api_key_id=g.api_key.id,
            key=key,
            fingerprint=fingerprint,
            status=answer.status_code,
            body=answer.get_json(),
        )
    )
    try:
        db.session.commit()
    except IntegrityError:  # the same key at the same moment: the other answer stands
        db.session.rollback()


def idempotent(view):
    """Keep the first answer (success or refusal, not a server error) per key and API key."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = _key()
        if key is None:
            return view(*args, **kwargs)
        fingerprint = _fingerprint()
        stored = db.session.scalar(
            select(IdempotentAnswer).filter_by(api_key_id=g.api_key.id, key=key)
        )
        if stored is not None:
            return _replay(stored, fingerprint)
        # The transfer wizard's double-submit guard serves here too: one request per key.
        g.api_submit_key = (
            "api-" + hashlib.sha256(f"{g.api_key.id}:{key}".encode()).hexdigest()[:56]
        )
        try:
            answer = view(*args, **kwargs)
        except ApiProblem as problem:
            from .problems import from_exception

            answer = from_exception(problem)
        answer = _as_response(answer)
        if answer.status_code < 500:
            _store(key, fingerprint, answer)
        return answer

    return wrapper


def _as_response(answer):
    from flask import make_response

    return make_response(answer)
