"""Many rows written with one statement: ``insert_rows`` and ``update_rows`` (the executor's
batch: its requests, services, records, mails, events and webhook deliveries).

SQLite: the driver's ``executemany``, a loop in C. PostgreSQL: psycopg's ``executemany``
sends one statement per row (in a pipeline), each costing about 50 Python calls and a
message the server handles on its own: most of what the executor spent more on PostgreSQL
than on SQLite. Here the rows travel as one JSON array (encoded by the json module's C
encoder), and the statement reads them back as typed columns with ``json_to_recordset``:
one statement, one parameter, the same text whatever the number of rows (compiled once,
prepared once by the server).

Rows are dicts with the same keys. Each value is bound as its column's type binds it
(``UTCDateTime`` refuses a naive time), then written as JSON: a JSON column's value as it
is, times and dates in ISO 8601, decimals as text, which the column's type reads back
exactly. Column defaults written in Python (``default=``) are filled in for the columns the
rows leave out, as SQLAlchemy does for an INSERT; server defaults are left to the server.
"""

import json
from datetime import date, datetime
from decimal import Decimal
from functools import cache

from sqlalchemy import JSON, Text, bindparam, cast, column, func, insert, select, update

from .extensions import db, dialect_name

KEY = "b_id"  # in ``update_rows``' rows: the id of the row to change


def insert_rows(table, rows):
    """INSERT ``rows`` into ``table`` with one statement (nothing for no rows)."""
    if not rows:
        return
    if not _postgresql():
        db.session.execute(insert(table), rows)
        return
    rows = _with_defaults(table, rows)
    columns = tuple(rows[0])
    db.session.execute(_insert(table, columns), {"rows": _json(table, columns, rows)})


def update_rows(table, rows):
    """UPDATE each row of ``table`` whose id is a row's ``b_id`` to that row's other values,
    with one statement (nothing for no rows). A row named twice gets the later values, as
    one statement per row would leave it."""
    if not rows:
        return
    if not _postgresql():
        db.session.execute(update(table).where(table.c.id == bindparam(KEY)), rows)
        return
    rows = list({row[KEY]: row for row in rows}.values())
    columns = tuple(rows[0])
    db.session.execute(_update(table, columns), {"rows": _json(table, columns, rows)})


def _postgresql():
    return dialect_name() == "postgresql"


def _with_defaults(table, rows):
    """The rows with a value for each column left out that has a default written in Python."""
    given = rows[0].keys()
    missing = [
        c.default
        for c in table.c
        if c.key not in given
        and c.default is not None
        and (c.default.is_scalar or c.default.is_callable)
    ]
    if not missing:
        return rows
    keys = [default.column.key for default in missing]

    def value(default):
        return default.arg if default.is_scalar else default.arg(None)

    return [{**row, **dict(zip(keys, map(value, missing), strict=True))} for row in rows]


def _json(table, columns, rows):
    """The rows as one JSON array, each value bound by its column's type first."""
    dialect = db.session.get_bind().dialect
    processors = [(name, _processor(_column(table, name).type, dialect)) for name in columns]
    processors = [(name, process) for name, process in processors if process is not None]
    if processors:
        rows = [
            {**row, **{name: process(row[name]) for name, process in processors}} for row in rows
        ]
    return json.dumps(rows, default=_plain, separators=(",", ":"))


def _processor(type_, dialect):
    """What binds a value of ``type_``: None for JSON (written as it is) and for types
    that take the value as it is."""
    if isinstance(type_, JSON):
        return None
    return type_.bind_processor(dialect)


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not written as JSON")


def _column(table, name):
    return table.c.id if name == KEY else table.c[name]


def _recordset(table, columns):
    """``json_to_recordset(CAST(:rows AS JSON)) AS anon(a TYPE, b TYPE, ...)``."""
    typed = [column(name, _column(table, name).type) for name in columns]
    rows = func.json_to_recordset(cast(bindparam("rows", type_=Text), JSON))
    return rows.table_valued(*typed).render_derived(with_types=True)


@cache
def _insert(table, columns):
    rows = _recordset(table, columns)
    return insert(table).from_select(columns, select(*(rows.c[name] for name in columns)))


@cache
def _update(table, columns):
    rows = _recordset(table, columns)
    changed = {name: rows.c[name] for name in columns if name != KEY}
    return update(table).where(table.c.id == rows.c[KEY]).values(changed)
