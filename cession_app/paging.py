"""Page numbers from the query string, and pagination that never fails on them."""

from flask import request
from flask_sqlalchemy.pagination import Pagination

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


class RowPagination(Pagination):
    """A page of items from a Core statement built once (``paginate_rows``). The statement's
    last column is the count of all its items (``count() OVER ()``), so a page that has
    rows needs no count statement."""

    def _query_items(self):
        args = self._query_args
        values = {**args["values"], "limit": self.per_page, "offset": self._query_offset}
        rows = db.session.execute(args["rows"], values).all()
        self._total = rows[0][-1] if rows else None
        return args["make"](rows)

    def _query_count(self):
        if self._total is not None:
            return self._total
        args = self._query_args
        return db.session.scalar(args["counted"], args["values"])


def paginate_rows(rows, count, values, make, page, per_page):
    """One page of the Core statement ``rows`` (with ``limit`` and ``offset`` bind
    parameters, and the count of all its items as its last column), its rows made into the
    page's items by ``make`` (a list of rows in, a list of items out: an item may take
    several rows); ``count`` counts them when the page has no rows. As ``paginate``: a
    page past the end shows the last page."""
    found = RowPagination(
        page=clamp(page), per_page=per_page, error_out=False,
        rows=rows, counted=count, values=values, make=make,
    )  # fmt: skip
    if not found.items and found.pages and found.page > found.pages:
        found = RowPagination(
            page=found.pages, per_page=per_page, error_out=False,
            rows=rows, counted=count, values=values, make=make,
        )  # fmt: skip
    return found
