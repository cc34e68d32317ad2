"""Page numbers from the query string, and pagination that never fails on them."""

from flask import request

from .extensions import db

# Far beyond any list this app shows; keeps OFFSET within what every database accepts.
MAX_PAGE = 100_000


def page_arg(name="page"):
    """The page asked for in ``?<name>=``: 1 when missing or not a number, at most MAX_PAGE."""
    raw = request.args.get(name, "")
    if not (raw.isascii() and raw.isdigit()):
        return 1
    digits = raw.lstrip("0")
    return MAX_PAGE if len(digits) > len(str(MAX_PAGE)) else clamp(int(digits or 0))


def clamp(page):
    """``page`` within 1 and MAX_PAGE."""
    return min(max(page or 1, 1), MAX_PAGE)


def paginate(query, page, per_page):
    """One page of ``query``; a page past the end shows the last page (never an error)."""
    result = db.paginate(query, page=clamp(page), per_page=per_page, error_out=False)
    if not result.items and result.pages and result.page > result.pages:
        result = db.paginate(query, page=result.pages, per_page=per_page, error_out=False)
    return result
