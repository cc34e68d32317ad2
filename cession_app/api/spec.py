"""The OpenAPI 3 document, generated from the views (apispec), and its reference page."""

import re
from functools import cache

from flask import current_app, jsonify, render_template
from flask_babel import get_locale

from .. import records
from ..i18n import lazy_gettext as _l
from ..models.api import SCOPES
from ..models.transfers import CHANGES, DIRECTIONS
from ..transfers.wizard import MAX_CASES
from ..webhooks.operations import EVENT_TYPES
from . import bp
from .inputs import DEFAULT_LIMIT, MAX_LIMIT
from .problems import TITLES

PARAMETERS = {
    "after": ("string", _l("The cursor given as next by the previous page.")),
    "limit": (
        "integer",
        _l(
            "Items per page, 1 to %(max)d (default %(default)d).",
            max=MAX_LIMIT,
            default=DEFAULT_LIMIT,
        ),
    ),
    "domain": ("string", _l("Only this domain (business case).")),
    "owner": ("string", _l("Only services owned by this customer code.")),
    "payer": ("string", _l("Only services paid by this customer code.")),
    "state": ("string", _l("Only this state.")),
    "service": ("string", _l("Only the payment requests of this service.")),
    "paid": ("string", _l("true: only paid ones; false: only unpaid ones.")),
    "account": ("string", _l("Only requests in which this customer code is a party.")),
    "created_from": ("string", _l("Created on or after this date (YYYY-MM-DD, UTC).")),
    "created_to": ("string", _l("Created on or before this date (YYYY-MM-DD, UTC).")),
    "type": ("string", _l("Only events of this type, such as transfer_executed.")),
    "force": (
        "string",
        _l(
            "true: change the owner or payer even while the service is in an open transfer"
            " request; that request then fails."
        ),
    ),
}
IDEMPOTENCY = _l("A repeat with the same key gets the first answer again.")
EVENT_TYPE_NOTE = _l(
    "The kind of change; webhook endpoints can take the types of EventType, such as"
    " transfer_executed or service_blocked."
)
BLOCK_NOTE = _l(
    "The details of service_blocked and service_unblocked: the service, the reason"
    " (unpaid, expired or terminating) and the payment request, if any. A service is blocked"
    " for transfers while it has an unpaid payment request or is expired or being terminated."
)


def describe(summary, *, params=(), body=None, response=None):
    """Mark a view for the OpenAPI document: its summary, query parameters, body, answer."""

    def decorator(view):
        view.api_doc = {"summary": summary, "params": params, "body": body, "response": response}
        return view

    return decorator


def _string(**extra):
    return {"type": "string", **extra}


def _schemas():
    page_of = {
        "AccountList": "Account",
        "ServiceList": "Service",
        "PaymentRequestList": "PaymentRequest",
        "TransferList": "Transfer",
        "EventList": "Event",
    }
    account = records.json_schema("accounts")
    account["properties"].pop("password")
    schemas = {
        "AccountRecord": records.json_schema("accounts"),
        "ServiceRecord": records.json_schema("services"),
        "PaymentRequestRecord": records.json_schema("payment_requests"),
        "Account": account,
        "Service": records.json_schema("services"),
        "PaymentRequest": records.json_schema("payment_requests"),
        "PaidBody": {"type": "object", "properties": {"paid_on": _string(format="date")}},
        "TransferBody": {
            "type": "object",
            "required": ["direction", "domain", "other", "services"],
            "properties": {
                "account": _string(description="For a reseller key: the acting account."),
                "direction": _string(enum=list(DIRECTIONS)),
                "domain": _string(),
                "other": _string(description="The other party's customer code."),
                "services": {"type": "array", "items": _string(), "maxItems": 100},
                "more_domains": {"type": "array", "items": _string(), "maxItems": MAX_CASES - 1},
                "change": _string(enum=list(CHANGES), default="both"),
                "notify_email": _string(format="email"),
            },
        },
        "Transfer": {"type": "object", "properties": {"id": {"type": "integer"}}},
        "Event": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "type": _string(description=str(EVENT_TYPE_NOTE)),
                "object_type": _string(),
                "object_id": _string(),
                "details": {},
            },
        },
        "EventType": _string(
            enum=list(EVENT_TYPES), description="The event types webhook endpoints can take."
        ),
        "ServiceBlockDetails": {
            "type": "object",
            "description": str(BLOCK_NOTE),
            "properties": {
                "service": _string(),
                "reason": _string(enum=["unpaid", "expired", "terminating"]),
                "payment_request": _string(nullable=True),
                "reasons": {"type": "array", "items": {"type": "object"}},
            },
        },
        "Problem": {
            "type": "object",
            "properties": {
                "type": _string(),
                "title": _string(),
                "status": {"type": "integer"},
                "code": _string(),
                "detail": _string(),
                "errors": {"type": "array", "items": {"type": "object"}},
            },
        },
    }
    schemas["PaymentRequest"]["properties"]["payer"] = _string(nullable=True)
    for name, item in page_of.items():
        schemas[name] = {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
                "next": _string(nullable=True),
            },
        }
    return schemas


def _openapi_path(rule):
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _operation(view, method, rule):
    doc = view.api_doc
    scope = view.api_scope
    operation = {
        "summary": str(doc["summary"]),
        "description": (view.__doc__ or "").strip(),
        "operationId": view.__name__,
        "tags": [rule.split("/")[3]],
        "security": [{"apiKey": []}],
        "x-scope": scope,
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", rule)
        ],
        "responses": {
            "default": {
                "description": "A problem (RFC 9457)",
                "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            }
        },
    }
    for name in doc["params"]:
        kind, text = PARAMETERS[name]
        operation["parameters"].append(
            {"name": name, "in": "query", "description": str(text), "schema": {"type": kind}}
        )
    if method == "post":
        operation["parameters"].append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "description": str(IDEMPOTENCY),
                "schema": {"type": "string", "maxLength": 200},
            }
        )
    if doc["body"]:
        operation["requestBody"] = {
            "required": method != "post",
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{doc['body']}"}}
            },
        }
    ok = "201" if view.__name__ == "create_transfer" else "200"
    operation["responses"][ok] = {
        "description": "OK",
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{doc['response']}"}}
        },
    }
    return operation


def build(app):
    """The OpenAPI document of ``app``'s API as a dict."""
    from apispec import APISpec  # built once, when the document is first asked for

    spec = APISpec(
        title="cession API",
        version="1",
        openapi_version="3.0.3",
        info={"description": "Accounts, services, payment requests, transfers and events."},
        servers=[{"url": app.config["BASE_URL"] + "/api/v1"}],
    )
    spec.components.security_scheme("apiKey", {"type": "http", "scheme": "bearer"})
    for name, schema in _schemas().items():
        spec.components.schema(name, schema)
    paths = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if not rule.endpoint.startswith("api.") or not hasattr(view, "api_doc"):
            continue
        path = _openapi_path(rule.rule).removeprefix("/api/v1")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(view, method.lower(), rule.rule)
    for path in sorted(paths):
        spec.path(path=path, operations=paths[path])
    return spec.to_dict()


@cache
def _cached(app_id, locale):
    return build(current_app)


def document():
    """The document of the current app in the current language (built once per process)."""
    return _cached(id(current_app._get_current_object()), str(get_locale()))


@bp.get("/openapi.json")
def openapi_json():
    """The OpenAPI 3 document."""
    return jsonify(document())


@bp.get("/docs")
def reference():
    """A readable reference page of the API, from the same document."""
    problems = sorted({**TITLES}.items())
    return render_template(
        "api/reference.html",
        spec=document(),
        scopes=SCOPES,
        problems=problems,
        event_types=EVENT_TYPES,
        block_note=BLOCK_NOTE,
        title=_l("API reference"),
    )
