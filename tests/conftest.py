"""Live-server fixtures: real Odoo processes on 127.0.0.1 against a prepared database.

setup/test passes the database (all addons and demo data installed) and a configuration
to copy; every server started here is stopped when its fixture ends.
"""

import configparser
import contextlib
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import uuid

import psycopg2
import pytest
import requests
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


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OdooServer:
    """One Odoo server process (and its workers and job runner) for the tests."""

    def __init__(self, tmp_path, workers=2, job_runner=True):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = os.environ["INTEGRATION_HUB_TEST_DB"]
        config = configparser.ConfigParser(interpolation=None)
        config.read(os.environ["INTEGRATION_HUB_CONF_TEMPLATE"])
        options = config["options"]
        options["db_name"] = self.db
        options["http_port"] = str(self.port)
        options["gevent_port"] = str(free_port())
        options["workers"] = str(workers)
        options["max_cron_threads"] = "0"
        options["server_wide_modules"] = "base,web,queue_job" if job_runner else "base,web"
        options["logfile"] = str(tmp_path / f"odoo-{self.port}.log")
        config["queue_job"]["port"] = str(self.port)
        self.conf = tmp_path / f"odoo-{self.port}.conf"
        with self.conf.open("w") as handle:
            config.write(handle)
        self.log = pathlib.Path(options["logfile"])
        self.process = None

    def start(self):
        odoo_src = os.environ.get("ODOO_SRC", "/opt/odoo")
        python = os.environ.get("INTEGRATION_HUB_PYTHON", sys.executable)
        self.process = subprocess.Popen(
            [python, "odoo-bin", "-c", str(self.conf)],
            cwd=odoo_src,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Odoo exited at start; see {self.log}")
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(f"{self.url}/web/health", timeout=2).status_code == 200:
                    return self
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"Odoo did not answer within 60 s; see {self.log}")

    def kill(self):
        """Kill the whole server at once, as a crash or an OOM killer would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        # Leftover workers of a killed server share its process group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def rpc(self, model, method, *args, **kwargs):
        """Call a model method as the demo admin through JSON-RPC."""
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {
                "service": "object",
                "method": "execute_kw",
                "args": [self.db, 2, "admin", model, method, list(args), kwargs],
            },
            "id": uuid.uuid4().hex,
        }
        answer = requests.post(f"{self.url}/jsonrpc", json=payload, timeout=30).json()
        if "error" in answer:
            raise RuntimeError(json.dumps(answer["error"])[:2000])
        return answer["result"]

    def post_event(self, token, event, secret=DEMO_SECRET, session=None):
        response, _elapsed = traffic.send(self.url, token, secret, event, session)
        return response


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
