"""Live-server fixtures: real Odoo processes on 127.0.0.1 against a prepared database.

setup/test passes the database (all addons and demo data installed) and a configuration
to copy; every server started here is stopped when its fixture ends.
"""

import os
import time

import live_odoo
import psycopg2
import pytest
import traffic

DEMO_SECRET = traffic.DEMO_SECRET


def pytest_collection_modifyitems(config, items):
    missing = [
        name
        for name in ("INTEGRATION_HUB_TEST_DB", "INTEGRATION_HUB_CONF_TEMPLATE")
        if name not in os.environ
    ]
    if missing:
        raise pytest.UsageError(
            f"run these tests through setup/test ({', '.join(missing)} not set)"
        )


def pytest_sessionfinish(session, exitstatus):
    # A skipped test is a test that did not run: it fails the suite.
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter and reporter.stats.get("skipped") and exitstatus == 0:
        session.exitstatus = 1


class OdooServer(live_odoo.OdooServer):
    """A server on the test database, with the demo key at hand."""

    def __init__(self, tmp_path, **options):
        super().__init__(
            os.environ["INTEGRATION_HUB_CONF_TEMPLATE"],
            os.environ["INTEGRATION_HUB_TEST_DB"],
            str(tmp_path),
            **options,
        )

    def post_event(self, token, event, secret=DEMO_SECRET, session=None):
        return traffic.send(self.url, token, secret, event, session)


@pytest.fixture
def start_server(tmp_path):
    servers = []

    def start(**options):
        server = OdooServer(tmp_path, **options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def db():
    """A plain connection to the test database, autocommit, for checks."""
    connection = psycopg2.connect(dbname=os.environ["INTEGRATION_HUB_TEST_DB"])
    connection.autocommit = True
    yield connection
    connection.close()


def wait_for(predicate, timeout=60, interval=0.3, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def query(db, sql, *params):
    with db.cursor() as cr:
        cr.execute(sql, params)
        return cr.fetchall()
