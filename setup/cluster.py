"""Several Odoo nodes on one database behind HAProxy, on 127.0.0.1 only.

Each node is a full Odoo server (its own workers) with the queue_job runner; queue_job
elects one runner with a PostgreSQL advisory lock and the others wait, trying again
every few seconds. HAProxy spreads requests over the nodes, health-checks them on
``/integration/health`` every second, takes a node out after two failed checks and
sends a request whose node vanished mid-way to another one (webhooks are deduplicated
on their id, so a request sent twice is stored once).

Used by ``setup/cluster`` (run it by hand), by ``tests/test_cluster.py`` and by
``bench/cluster``; stop() ends every process it started.
"""

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import psycopg2
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import live_odoo

# queue_job's runner lock (odoo/addons/queue_job/jobrunner/runner.py).
RUNNER_LOCK_ID = 2293787760715711918

HAPROXY_CONFIG = """\
global
    maxconn 4096
    pidfile {workdir}/haproxy.pid

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    # A node that dies under a request: the request goes to another node. Webhooks
    # are deduplicated on their webhook-id, so one sent twice is still stored once.
    retries 3
    option redispatch 1
    retry-on all-retryable-errors
    option http-buffer-request

frontend hub
    bind 127.0.0.1:{port}
    default_backend odoo

backend odoo
    balance roundrobin
    option httpchk
    http-check send meth GET uri /integration/health ver HTTP/1.1 hdr Host 127.0.0.1
    http-check expect status 200
    # A loaded node answers its health check slowly: allow it 5 s before calling it down.
    timeout check 5s
    default-server inter 1s fall 2 rise 2
{servers}
"""


class Cluster:
    """``nodes`` Odoo servers on database ``db`` and HAProxy in front of them."""

    def __init__(
        self, config_template, db, workdir, *, nodes=2, workers=2, port=None, job_runner=True
    ):
        if not shutil.which("haproxy"):
            raise RuntimeError(
                "HAProxy is not installed: apt-get install -y haproxy (setup/cluster does it)"
            )
        self.workdir = workdir
        self.db = db
        self.nodes = [
            live_odoo.OdooServer(
                config_template, db, workdir, workers=workers, job_runner=job_runner
            )
            for _ in range(nodes)
        ]
        self.port = port or live_odoo.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.haproxy = None

    def start(self, timeout=90):
        try:
            for node in self.nodes:
                node.start(timeout)
            self._start_haproxy(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_haproxy(self, timeout):
        servers = "\n".join(
            f"    server node{number} 127.0.0.1:{node.port} check"
            for number, node in enumerate(self.nodes, 1)
        )
        config = os.path.join(self.workdir, "haproxy.cfg")
        with open(config, "w") as handle:
            handle.write(
                HAPROXY_CONFIG.format(workdir=self.workdir, port=self.port, servers=servers)
            )
        subprocess.run(["haproxy", "-c", "-q", "-f", config], check=True)
        with open(os.path.join(self.workdir, "haproxy.log"), "w") as log:
            self.haproxy = subprocess.Popen(
                ["haproxy", "-db", "-f", config],
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.haproxy.poll() is not None:
                raise RuntimeError(f"HAProxy exited at start; see {self.workdir}/haproxy.log")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/integration/health", timeout=5).status_code == 200:
                    return
            time.sleep(0.3)
        raise RuntimeError(f"HAProxy did not answer within {timeout} s")

    def runner_leader(self):
        """The node whose queue_job runner holds the lock (None while none does)."""
        with contextlib.closing(psycopg2.connect(dbname=self.db)) as connection:
            with connection.cursor() as cr:
                cr.execute(
                    """SELECT a.application_name FROM pg_locks l
                         JOIN pg_stat_activity a ON a.pid = l.pid
                        WHERE l.locktype = 'advisory' AND l.granted
                          AND l.database = (SELECT oid FROM pg_database
                                             WHERE datname = current_database())
                          AND (l.classid::bigint << 32) | l.objid::bigint = %s""",
                    (RUNNER_LOCK_ID,),
                )
                row = cr.fetchone()
        if not row or not row[0].startswith("odoo-"):
            return None
        pid = int(row[0].removeprefix("odoo-"))
        for node in self.nodes:
            with contextlib.suppress(ProcessLookupError):
                if (
                    node.process
                    and node.process.poll() is None
                    and os.getpgid(pid) == node.process.pid
                ):
                    return node
        return None

    def stop(self):
        if self.haproxy is not None and self.haproxy.poll() is None:
            os.killpg(self.haproxy.pid, signal.SIGTERM)
            try:
                self.haproxy.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.haproxy.pid, signal.SIGKILL)
                self.haproxy.wait(10)
        for node in self.nodes:
            node.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="configuration written by setup/lib.sh")
    parser.add_argument("--db", required=True)
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="HTTP workers per node")
    parser.add_argument("--port", type=int, default=8080, help="HAProxy's port")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="integration-hub-cluster-") as workdir:
        cluster = Cluster(
            args.config, args.db, workdir, nodes=args.nodes, workers=args.workers, port=args.port
        )
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        try:
            cluster.start()
            print(f"HAProxy:  {cluster.url}  (health-checks /integration/health)")
            for number, node in enumerate(cluster.nodes, 1):
                print(f"node {number}:   {node.url}  (log {node.log})")
            print("Stop:     Ctrl+C")
            while not stopping:
                leader = cluster.runner_leader()
                names = {id(node): f"node {n}" for n, node in enumerate(cluster.nodes, 1)}
                print(
                    f"\rjob runner leader: {names.get(id(leader), 'electing…')}   ",
                    end="",
                    flush=True,
                )
                time.sleep(2)
        except KeyboardInterrupt:
            pass
        finally:
            print("\nstopping the cluster")
            cluster.stop()


if __name__ == "__main__":
    main()
