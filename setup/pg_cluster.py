"""A throw-away PostgreSQL cluster for fault tests: stopped and started at will, never
the machine's own.

initdb into a temporary directory, a free port on 127.0.0.1, trust authentication,
the current OS user's name as its superuser. PostgreSQL refuses to run as root: when
the tests run as root, the server runs as the ``postgres`` OS user. ``close()`` stops
it and deletes the directory.
"""

import contextlib
import getpass
import os
import pwd
import shutil
import subprocess
import tempfile
import time

import psycopg2
from live_odoo import free_port

PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")


class TempCluster:
    def __init__(self):
        self.port = free_port()
        self.user = getpass.getuser()
        self.root = tempfile.mkdtemp(prefix="ih-pg-")
        self.data = os.path.join(self.root, "data")
        self.log = os.path.join(self.root, "postgres.log")
        self.os_user = "postgres" if os.geteuid() == 0 else None
        if self.os_user:
            entry = pwd.getpwnam(self.os_user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run(
            os.path.join(PG_BIN, "initdb"),
            "-D",
            self.data,
            "-U",
            self.user,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )

    def _run(self, *command):
        if self.os_user:
            command = ("runuser", "-u", self.os_user, "--", *command)
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self):
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c fsync=off -c full_page_writes=off -c max_connections=60"
        )
        self._run(
            os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-l", self.log, "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip
        return self

    def stop(self, mode="fast"):
        """``fast`` ends sessions cleanly; ``immediate`` is a crash (recovery at start)."""
        self._run(os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-m", mode, "-w", "stop")

    def connect(self, dbname="postgres"):
        connection = psycopg2.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname=dbname
        )
        connection.autocommit = True
        return connection

    def copy_database(self, name, source_env=None):
        """Create ``name`` here as a copy of the database of that name on the machine's
        own PostgreSQL (read with pg_dump, never changed)."""
        with contextlib.closing(self.connect()) as connection, connection.cursor() as cr:
            cr.execute(f'CREATE DATABASE "{name}"')
        dump = subprocess.Popen(
            [os.path.join(PG_BIN, "pg_dump"), "--no-owner", "--no-privileges", name],
            stdout=subprocess.PIPE,
            env=source_env or os.environ,
        )
        restore = subprocess.run(
            [
                os.path.join(PG_BIN, "psql"),
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                name,
            ],
            stdin=dump.stdout,
            capture_output=True,
            check=False,
            timeout=600,
        )
        dump.stdout.close()
        if dump.wait(600) != 0 or restore.returncode != 0:
            raise RuntimeError(f"copying {name} failed: {restore.stderr.decode()[-2000:]}")

    def close(self):
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self.stop("immediate")
        # Wait for the postmaster to be gone before removing its files.
        deadline = time.monotonic() + 20
        while os.path.exists(os.path.join(self.data, "postmaster.pid")):
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        shutil.rmtree(self.root, ignore_errors=True)
