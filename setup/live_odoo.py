"""A real Odoo server process for live tests and benchmarks, on 127.0.0.1 only.

Started from a configuration written by setup/lib.sh, on a free port; stop() ends
the server and every worker and job runner it forked (one process group).
"""

import configparser
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import requests


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OdooServer:
    def __init__(
        self,
        config_template,
        db,
        workdir,
        *,
        workers=2,
        job_runner=True,
        extra_options=None,
        mllp_port=None,
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = db
        config = configparser.ConfigParser(interpolation=None)
        config.read(config_template)
        options = config["options"]
        options.update(
            {
                "db_name": db,
                "http_port": str(self.port),
                "gevent_port": str(free_port()),
                "workers": str(workers),
                "max_cron_threads": "0",
                # The hub is server-wide: its routes answer JSON even without a database.
                "server_wide_modules": "base,web,queue_job,integration_hub"
                if job_runner
                else "base,web,integration_hub",
                "log_level": "warn",
                "logfile": os.path.join(workdir, f"odoo-{self.port}.log"),
            }
        )
        # E.g. another PostgreSQL (db_host, db_port) for fault tests.
        options.update({key: str(value) for key, value in (extra_options or {}).items()})
        if mllp_port:
            # The HL7 addon starts its MLLP listener with the server, as queue_job its runner.
            options["server_wide_modules"] += ",integration_hub_hl7"
            options["integration_hub_mllp_port"] = str(mllp_port)
            options["integration_hub_mllp_interface"] = "127.0.0.1"
        config["queue_job"]["port"] = str(self.port)
        if not job_runner:
            # integration_hub, server-wide, imports queue_job, and that import alone arms
            # queue_job's runner: a root channel of capacity 0 keeps it off.
            config["queue_job"]["channels"] = "root:0"
        self.conf = os.path.join(workdir, f"odoo-{self.port}.conf")
        with open(self.conf, "w") as handle:
            config.write(handle)
        self.log = options["logfile"]
        self.process = None

    def start(self, timeout=60):
        self.process = subprocess.Popen(
            [os.environ.get("INTEGRATION_HUB_PYTHON", sys.executable), "odoo-bin", "-c", self.conf],
            cwd=os.environ.get("ODOO_SRC", "/opt/odoo"),
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            self._wait_until_up(timeout)
        except BaseException:
            self.stop()  # never leave a half-started server behind
            raise
        return self

    def _wait_until_up(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Odoo exited at start; see {self.log}")
            # Not up yet, or too busy to answer in time on a loaded machine: ask again.
            with contextlib.suppress(requests.ConnectionError, requests.Timeout):
                if requests.get(f"{self.url}/web/health", timeout=5).status_code == 200:
                    return
            time.sleep(0.3)
        raise RuntimeError(f"Odoo did not answer within {timeout} s; see {self.log}")

    def kill(self):
        """Kill the whole server at once, as a crash or the OOM killer would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        # Workers of a killed server may outlive it, in its process group.
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
        answer = requests.post(f"{self.url}/jsonrpc", json=payload, timeout=60).json()
        if "error" in answer:
            raise RuntimeError(str(answer["error"])[:2000])
        return answer.get("result")  # a method returning None answers no "result"

    def subscribe_contacts(self, name, url, secret, subscription, **backend_values):
        """A backend receiving contact.upserted at ``url`` signed with ``secret``.

        ``subscription`` holds the subscription's own values (trigger, filter_domain…);
        ``backend_values`` adds to or overrides the backend's. Returns the backend id.
        """
        backend_id = self.rpc(
            "integration.backend",
            "create",
            {
                "name": name,
                "code": f"live-{uuid.uuid4().hex[:8]}",
                "state": "active",
                "outbound_url": url,
                "outbound_allow_private": True,
                "outbound_secret": secret,
                **backend_values,
            },
        )
        (event_type,) = self.rpc(
            "integration.event.type",
            "search",
            [["code", "=", "contact.upserted"], ["direction", "=", "out"]],
        )
        self.rpc(
            "integration.subscription",
            "create",
            {"backend_id": backend_id, "event_type_id": event_type, **subscription},
        )
        return backend_id
