"""PostgreSQL (psycopg): a transaction's BEGIN travels with its first statement; a result's
columns described cheaply.

psycopg starts a transaction by sending BEGIN alone and waiting for its answer, so every
page paid a round trip (and a command of the server) for it before its first statement.
Here the driver is left in autocommit mode and the engine sends BEGIN itself, in one
pipeline with the transaction's first statement: one round trip for both, the same
transaction (the same BEGIN, the server's default isolation level, COMMIT or ROLLBACK at
its end as before).

Under READ COMMITTED (PostgreSQL's default level) the BEGIN waits further: for the first
statement that is not a plain SELECT (built with ``select()``, without FOR UPDATE). Plain
SELECTs before it run on their own, as they would inside the transaction: at this level
each statement takes its own snapshot anyway, and a plain SELECT takes no row lock. So a
page that only reads opens no transaction on the server and sends no ROLLBACK at its end:
one round trip less. Anything else (``text()``, INSERT, UPDATE, DELETE, FOR UPDATE, a
savepoint) begins the transaction and is in it, and so is every statement after it. A
SELECT that must be inside the transaction for its side effect (an advisory transaction
lock, ``nextval``) has to be written with ``text()``.

The end of a transaction is sent as a plain statement too: psycopg's own ``rollback()``
also forgets (and DEALLOCATEs on the server, one more round trip) every prepared
statement of the connection, so none lived longer than one page.

A result's description (the columns' names and types, which SQLAlchemy reads after every
statement, though it keeps what it found for a statement it has compiled) is a list of plain
tuples, as DB-API has it, instead of psycopg's ``Column`` objects: a page of 95 columns
built 95 of them (about 500 Python calls).

Connections set to another isolation level (``execution_options``) are left to psycopg;
``AUTOCOMMIT`` ones get no BEGIN. Code that uses the driver's connection directly must
start the transaction first (``begin_now``).
"""

from psycopg import Cursor, ServerCursor, errors, generators
from psycopg.pq import ExecStatus, TransactionStatus
from sqlalchemy import event
from sqlalchemy.sql.selectable import Select

IDLE = TransactionStatus.IDLE
COMMAND_OK = ExecStatus.COMMAND_OK
WITH_ROWS = (ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK)


class DescribedCursor(Cursor):
    """psycopg's cursor, with ``description`` as DB-API tuples (name, type code and five
    None: what SQLAlchemy reads)."""

    __slots__ = ()

    @property
    def description(self):
        result = self.pgresult
        if not result or not (result.nfields or result.status in WITH_ROWS):
            return None
        encoding = self._pgconn._encoding
        columns = []
        for i in range(result.nfields):
            name = result.fname(i)
            columns.append(
                (
                    name.decode(encoding) if name else f"column_{i + 1}",
                    result.ftype(i),
                    None,
                    None,
                    None,
                    None,
                    None,
                )
            )
        return columns


def install(engine):
    """Make ``engine`` (postgresql+psycopg) send BEGIN with the first statement."""
    dialect = engine.dialect
    if dialect.name != "postgresql" or dialect.driver != "psycopg":
        return
    set_level = dialect.set_isolation_level

    def set_isolation_level(dbapi_connection, level):
        if level == dialect.default_isolation_level:  # ours: driver autocommit, our BEGIN
            dbapi_connection.autocommit = True
            dbapi_connection.isolation_level = None
        else:
            set_level(dbapi_connection, level)

    def do_begin(dbapi_connection):
        pass  # sent with the first statement

    def do_execute(cursor, statement, parameters, context=None):
        connection = cursor.connection
        if _needs_begin(connection, context):
            # Not without parameters: psycopg sends those as simple queries, which may
            # hold several statements; a pipeline has none. Nor a server-side cursor's.
            if parameters and not isinstance(cursor, ServerCursor):
                with connection.pipeline():
                    # psycopg's own (internal) way to queue a command in a pipeline: sent
                    # with the statement (connection.execute() would send it alone).
                    connection.wait(connection._exec_command(b"BEGIN"))
                    cursor.execute(statement, parameters)
                return
            connection.execute(b"BEGIN")
        cursor.execute(statement, parameters)

    def do_execute_no_params(cursor, statement, context=None):
        connection = cursor.connection
        if _needs_begin(connection, context):
            connection.execute(b"BEGIN")
        cursor.execute(statement)

    def do_executemany(cursor, statement, parameters, context=None):
        connection = cursor.connection
        if _needs_begin(connection, context):
            connection.execute(b"BEGIN")
        cursor.executemany(statement, parameters)

    def do_commit(dbapi_connection):
        _end(dbapi_connection, b"COMMIT", "commit")

    def do_rollback(dbapi_connection):
        _end(dbapi_connection, b"ROLLBACK", "rollback")

    dialect.set_isolation_level = set_isolation_level
    dialect.do_begin = do_begin
    dialect.do_execute = do_execute
    dialect.do_execute_no_params = do_execute_no_params
    dialect.do_executemany = do_executemany
    dialect.do_commit = do_commit
    dialect.do_rollback = do_rollback

    @event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_connection, connection_record):
        dbapi_connection.cursor_factory = DescribedCursor
        if dbapi_connection.info.transaction_status == IDLE:
            dbapi_connection.autocommit = True


def _needs_begin(connection, context):
    """Whether this statement opens a transaction SQLAlchemy has begun: the server has none
    yet, the driver does not start one itself, the connection is not AUTOCOMMIT, and the
    statement is not a plain SELECT that can wait for it (see the module's docstring)."""
    return (
        connection.autocommit
        and connection.pgconn.transaction_status == IDLE
        and context is not None
        and not context.root_connection._is_autocommit_isolation()
        and not (_plain_select(context) and _read_committed(context.dialect))
    )


def _read_committed(dialect):
    """Whether the server's default level is READ COMMITTED (a snapshot per statement)."""
    return getattr(dialect, "default_isolation_level", None) == "READ COMMITTED"


def _plain_select(context):
    """A SELECT built with ``select()``, locking nothing: not text, not FOR UPDATE."""
    compiled = context.compiled
    statement = compiled.statement if compiled is not None else None
    return isinstance(statement, Select) and statement._for_update_arg is None


def _end(dbapi_connection, command, method):
    """End the transaction; nothing to send when there is none on the server."""
    driver = getattr(dbapi_connection, "driver_connection", dbapi_connection)
    if not driver.autocommit:  # a connection psycopg runs itself (another isolation level)
        getattr(driver, method)()
    elif driver.pgconn.transaction_status != IDLE:
        # Not driver.execute(): psycopg takes a ROLLBACK it runs for a reason to forget
        # its prepared statements, as its rollback() does.
        with driver.lock:
            driver.pgconn.send_query(command)
            result = driver.wait(generators.execute(driver.pgconn))[-1]
        if result.status != COMMAND_OK:
            raise errors.error_from_result(result, encoding=driver.info.encoding)


def begin_now(sqlalchemy_connection):
    """Start the transaction on the server now, before using the driver's connection."""
    driver = sqlalchemy_connection.connection.driver_connection
    if driver.autocommit and driver.pgconn.transaction_status == IDLE:
        if not sqlalchemy_connection._is_autocommit_isolation():
            driver.execute(b"BEGIN")
