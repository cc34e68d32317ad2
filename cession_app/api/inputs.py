"""Reading what a client sent: a JSON body, query filters, cursors; translated messages."""

import json
import re
from datetime import date

from flask import request

from .. import records
from ..i18n import lazy_gettext as _l
from .problems import ApiProblem

MAX_LIMIT = 100
DEFAULT_LIMIT = 50
_DIGITS = re.compile(r"[0-9]{1,18}")


def _invalid(code, detail, field=None):
    errors = [{"field": field, "code": code, "detail": str(detail)}] if field else None
    return ApiProblem(400, code, detail, errors)


def json_body():
    """The request's JSON object; a problem (never a crash) for anything else."""
    if not request.is_json:
        raise ApiProblem(415, "not_json", _l("Send the data as JSON."))
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw, parse_int=_integer)
    except (ValueError, RecursionError):
        raise _invalid("bad_json", _l("The body is not valid JSON (UTF-8).")) from None
    if not isinstance(data, dict):
        raise _invalid("bad_json", _l("The body must be a JSON object."))
    return data


def _integer(digits):
    try:
        return int(digits)
    except ValueError:
        return records.HugeNumber(len(digits))


def record_problem(problems):
    """The 422 problem listing a record's problems (field, code, translated detail)."""
    errors = [{"field": p.field, "code": p.code, "detail": p.message} for p in problems]
    detail = "; ".join(p.message for p in problems)
    return ApiProblem(422, "invalid_record", detail, errors)


def limit_arg():
    """``?limit=``: 1 to MAX_LIMIT, default DEFAULT_LIMIT."""
    raw = request.args.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not _DIGITS.fullmatch(raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise _invalid(
            "bad_limit",
            _l("limit must be a whole number from 1 to %(max)d.", max=MAX_LIMIT),
            "limit",
        )
    return int(raw)


def cursor_arg(name="after"):
    """``?after=``: the cursor from a previous page's ``next``, or None."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not _DIGITS.fullmatch(raw):
        raise _invalid(
            "bad_cursor",
            _l("%(name)s must be the cursor given as next by a previous page.", name=name),
            name,
        )
    return int(raw)


def text_arg(name, max_len=253):
    """An optional text filter (no control characters)."""
    raw = request.args.get(name)
    if raw is None:
        return None
    if len(raw) > max_len or records.safe_text(raw) != raw or not raw.isprintable():
        raise _invalid("bad_filter", _l("The filter %(name)s is not valid.", name=name), name)
    return raw


def choice_arg(name, options):
    """An optional filter that must be one of ``options``."""
    raw = request.args.get(name)
    if raw is None:
        return None
    if raw not in options:
        raise _invalid(
            "bad_filter",
            _l(
                "The filter %(name)s must be one of %(options)s.",
                name=name,
                options=", ".join(options),
            ),
            name,
        )
    return raw


def date_arg(name):
    """An optional date filter written YYYY-MM-DD."""
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        if len(raw) != 10:
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise _invalid(
            "bad_filter",
            _l("The filter %(name)s must be a date written YYYY-MM-DD.", name=name),
            name,
        ) from None


def page(items, limit, key=lambda item: item.id):
    """The page (at most ``limit`` items) and the cursor of the next page (or None)."""
    items = list(items)
    more = len(items) > limit
    items = items[:limit]
    return items, (str(key(items[-1])) if more and items else None)
