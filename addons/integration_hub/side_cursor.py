"""A cursor outside the current transaction, for shared operational counters.

Webhook request counters and the outbound circuit breaker are updated by many workers
at once. Inside their REPEATABLE READ transactions such updates would fail to serialize
(and a job would then be run again after its HTTP call); on this side connection
(autocommit, READ COMMITTED) concurrent updates simply wait for each other, and every
worker sees the latest state at once.
"""

import contextlib
import os
import threading

import psycopg2

from odoo import sql_db
from odoo.modules import module

# Idle side connections per (database, process): never shared across a fork.
_idle = {}
_lock = threading.Lock()


@contextlib.contextmanager
def side_cursor(env):
    """A cursor whose statements commit at once (one round trip each).

    ``synchronous_commit`` is off: a count lost in a database crash is harmless, and
    messages themselves are committed durably by their own transaction. Connections
    are kept idle between uses, as many as were ever used at once in this process.
    Tests run in one transaction that is rolled back: there the cursor is the test's.
    """
    if env.registry.in_test_mode() or module.current_test:
        yield env.cr
        return
    dbname = env.cr.dbname
    with _lock:
        idle = _idle.setdefault((dbname, os.getpid()), [])
        connection = idle.pop() if idle else None
    if connection is None or connection.closed:
        connection = psycopg2.connect(**sql_db.connection_info_for(dbname)[1])
        connection.autocommit = True
        with connection.cursor() as cr:
            cr.execute(
                "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED;"
                "SET synchronous_commit TO OFF"
            )
    try:
        with connection.cursor() as cr:
            yield cr
    except psycopg2.Error:
        connection.close()  # a new one next time
        raise
    with _lock:
        idle.append(connection)
