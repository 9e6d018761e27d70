"""Driven by bench/store: the hub's reads and intake on an empty store, then after
bulk-loading N done messages (each with its attempt and its done job), then retention's
deletions per second while webhooks keep arriving. Loopback only; every server started
is stopped."""

import argparse
import concurrent.futures
import configparser
import itertools
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import psycopg2
import requests

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "setup"))
import live_odoo
import traffic

TOKEN = "demo-contacts"
METRICS_TOKEN = "bench-store-metrics"
# The Messages menu's default filter (search_default_backlog).
BACKLOG = ["received", "queued", "retrying", "exception", "dead"]
BACKLOG_DOMAIN = [["state", "in", BACKLOG]]
# What the Messages list reads of each row of its page (its columns shown by default).
LIST_FIELDS = {
    "create_date": {},
    "direction": {},
    "backend_id": {"fields": {"display_name": {}}},
    "reference": {},
    "event_type": {},
    "attempt_count": {},
    "next_attempt_date": {},
    "company_id": {"fields": {"display_name": {}}},
    "state": {},
}
CHUNK = 1_000_000

# Rows as the hub leaves a processed message: the message, one done attempt, one done
# job. Ids of jobs are reserved from their sequence; messages take theirs as the
# webhook does; sender ids and job uuids carry the job's id, so a store can be loaded
# more than once. Old enough for the default retention (90 days).
LOAD_SQL = """
WITH jobs AS (
    INSERT INTO queue_job (id, uuid, user_id, company_id, name, model_name, method_name,
                           records, args, kwargs, func_string, state, priority, eta,
                           date_created, date_enqueued, date_started, date_done, result,
                           channel, identity_key, retry, max_retries)
    SELECT %(job_base)s + g, 'bulk-' || (%(job_base)s + g), 1, %(company)s,
           'Process integration message',
           'integration.message', '_job_process',
           jsonb_build_object('_type', 'odoo_recordset', 'model', 'integration.message',
                              'ids', jsonb_build_array(0), 'uid', 1, 'su', true,
                              'context', '{}'::jsonb),
           '[]'::jsonb, '{}'::jsonb,
           'integration.message(0,)._job_process()', 'done', 10, NULL,
           t.ts, t.ts, t.ts, t.ts, 'Done: Patient ' || g, %(channel)s,
           'integration.message,bulk-' || (%(job_base)s + g) || ',process', 1, 5
      FROM generate_series(%(lo)s, %(hi)s) g,
           LATERAL (SELECT (now() at time zone 'utc') - interval '200 days'
                           + g * interval '1 millisecond' AS ts) t
    RETURNING id, date_done
), messages AS (
    INSERT INTO integration_message (direction, backend_id, endpoint_id, company_id,
        event_type, event_type_id, sender_message_id, correlation_id, payload,
        payload_sha256, headers, source_format, state, attempt_count, duplicate_count, duration_ms,
        done_date, job_id, job_state, result_model, create_uid, write_uid, create_date,
        write_date)
    SELECT 'in', %(backend)s, %(endpoint)s, %(company)s, 'contact.upserted', %(type)s,
           'bulk_' || j.id, 'bulk_' || j.id,
           '{"type": "contact.upserted", "timestamp": "2026-01-01T09:00:00Z", "data": '
           || '{"id": "C-' || j.id || '", "name": "Patient ' || j.id
           || '", "email": "patient' || j.id || '@example.org", "phone": "+1 555 0100", '
           || '"city": "Springfield", "country_code": "US"}}',
           md5(j.id::text) || md5(j.id::text),
           '{"content-type": "application/json", "webhook-id": "bulk_' || j.id || '"}',
           'json', 'done', 1, 0, 12, j.date_done, j.id, 'done', 'res.partner', 1, 1,
           j.date_done, j.date_done
      FROM jobs j
    RETURNING id, job_id, company_id, create_date
)
INSERT INTO integration_message_attempt (message_id, company_id, number, job_uuid,
                                         start_date, end_date, duration_ms, outcome)
SELECT m.id, m.company_id, 1, 'bulk-' || m.job_id, m.create_date,
       m.create_date, 12, 'done'
  FROM messages m
"""

RETENTION = """
import time
messages = env["integration.message"]
deleted, started, wall = 0, time.perf_counter(), time.time()
while time.perf_counter() - started < {seconds}:
    count = messages._cron_apply_retention(batch_size={batch})
    env.cr.commit()
    if not count:
        break
    deleted += count
print(f"RETENTION {{deleted}} {{time.perf_counter() - started:.3f}} {{wall}} {{time.time()}}")
"""


def p(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def timed(call, count):
    durations = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        durations.append((time.perf_counter() - started) * 1000)
    return statistics.median(durations)


class Client:
    """The web client's session, and the timed reads of one state of the store."""

    def __init__(self, server):
        self.server = server
        self.session = requests.Session()
        answer = self.session.post(
            f"{server.url}/web/session/authenticate",
            json={"params": {"db": server.db, "login": "admin", "password": "admin"}},
            timeout=60,
        ).json()
        if "error" in answer:
            raise RuntimeError(str(answer["error"])[:500])

    def call_kw(self, model, method, args, kwargs):
        answer = self.session.post(
            f"{self.server.url}/web/dataset/call_kw/{model}/{method}",
            json={"params": {"model": model, "method": method, "args": args, "kwargs": kwargs}},
            timeout=300,
        ).json()
        if "error" in answer:
            raise RuntimeError(str(answer["error"])[:500])
        return answer["result"]

    def grouped(self, domain):
        return self.call_kw(
            "integration.message",
            "web_read_group",
            [],
            {"domain": domain, "fields": ["state"], "groupby": ["state"], "lazy": True},
        )

    def first_page(self, domain):
        return self.call_kw(
            "integration.message",
            "web_search_read",
            [],
            {
                "domain": domain,
                "specification": LIST_FIELDS,
                "limit": 80,
                "count_limit": 10001,
            },
        )

    def health(self):
        response = requests.get(
            f"{self.server.url}/integration/health",
            headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
            timeout=60,
        )
        response.raise_for_status()
        return response.json()

    def metrics(self):
        response = requests.get(
            f"{self.server.url}/integration/metrics",
            headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
            timeout=60,
        )
        response.raise_for_status()
        return response.text

    def reads(self, repeat):
        return {
            "health (with token, detail)": timed(self.health, repeat),
            "metrics": timed(self.metrics, repeat),
            "grouped by state, default filter": timed(lambda: self.grouped(BACKLOG_DOMAIN), repeat),
            "list first page + count, default filter": timed(
                lambda: self.first_page(BACKLOG_DOMAIN), repeat
            ),
            "grouped by state, no filter": timed(lambda: self.grouped([]), max(3, repeat // 10)),
        }


def keep_going(one, stop, numbers):
    statuses = []
    while not stop.is_set():
        statuses.append(one(next(numbers)))
    return statuses


def ingest(server, count, concurrency, stop=None, window=None):
    """(accepted per second, p99 ms, count) of ``count`` signed webhooks, or until
    ``stop``; ``window``, a list, receives (start time, latency) of each request."""
    sample = traffic.load_sample("contact.upserted")
    local = threading.local()
    latencies = []
    # (wall-clock start, latency ms) of each request, to pick those of a window.
    log = [] if window is None else window

    def one(number):
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        wall, started = time.time(), time.perf_counter()
        response = traffic.send(
            server.url, TOKEN, traffic.DEMO_SECRET, traffic.realistic(sample, number), session
        )
        latencies.append((time.perf_counter() - started) * 1000)
        log.append((wall, latencies[-1]))
        return response.status_code

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        if stop is None:
            statuses = list(pool.map(one, range(count)))
        else:  # until stopped: one request after another on each sender
            statuses, numbers = [], itertools.count(count)
            senders = [pool.submit(keep_going, one, stop, numbers) for _ in range(concurrency)]
            for future in senders:
                statuses += future.result()
    elapsed = time.perf_counter() - started
    refused = [status for status in statuses if status != 202]
    if refused:
        raise RuntimeError(f"{len(refused)} webhooks refused, e.g. HTTP {refused[0]}")
    return len(statuses) / elapsed, p(latencies, 0.99), len(statuses)


def connect(config):
    options = config["options"]
    return psycopg2.connect(
        dbname=options["db_name"],
        host=options.get("db_host") or None,
        port=options.get("db_port") or None,
        user=options.get("db_user") or None,
    )


LOADED_TABLES = ("integration_message", "integration_message_attempt", "queue_job")


def secondary_indexes(cr):
    """(name, table, constraint?, statement that creates it) of every index of the
    loaded tables but their primary keys: the hub's and queue_job's, as installed."""
    cr.execute(
        """SELECT i.indexrelid::regclass::text, i.indrelid::regclass::text, c.conname,
                  CASE WHEN c.conname IS NULL THEN pg_get_indexdef(i.indexrelid)
                       ELSE format('ALTER TABLE %%I ADD CONSTRAINT %%I %%s', i.indrelid::regclass,
                                   c.conname, pg_get_constraintdef(c.oid)) END
             FROM pg_index i
             LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype = 'u'
            WHERE i.indrelid::regclass::text IN %s AND NOT i.indisprimary
            ORDER BY 1""",
        (LOADED_TABLES,),
    )
    return cr.fetchall()


def bulk_load(config, rows):
    """``rows`` done messages with their attempts and jobs, in chunks of a million.

    As a restore does: the secondary indexes are dropped, the rows inserted, then the
    same indexes (their definitions read from the catalogue) built again by sorting,
    which on 10 M rows is several times faster than maintaining them row by row. The
    store then has exactly the indexes it had, maintained by every later write.
    """
    connection = connect(config)
    try:
        with connection.cursor() as cr:
            cr.execute(
                """SELECT b.id, b.company_id, e.id, t.id, c.complete_name
                     FROM integration_endpoint e
                     JOIN integration_backend b ON b.id = e.backend_id
                     JOIN queue_job_channel c ON c.id = b.channel_id,
                          integration_event_type t
                    WHERE e.token = %s AND t.code = 'contact.upserted' AND t.direction = 'in'""",
                (TOKEN,),
            )
            backend, company, endpoint, event_type, channel = cr.fetchone()
            cr.execute("SELECT nextval('queue_job_id_seq')")
            job_base = cr.fetchone()[0]
            cr.execute("SELECT setval('queue_job_id_seq', %s)", (job_base + rows + 1,))
            connection.commit()
            # The rows are consistent by construction: skip the foreign-key triggers, 7
            # look-ups per message (a superuser may; the setup's role is one).
            try:
                cr.execute("SET session_replication_role = replica")
            except psycopg2.errors.InsufficientPrivilege:
                connection.rollback()
            # A loader's commits need not wait for the disk (a crash loses only the
            # bench's own rows); index builds sort in memory.
            cr.execute("SET synchronous_commit = off")
            cr.execute("SET maintenance_work_mem = '256MB'")
            indexes = secondary_indexes(cr)
            for name, table, constraint, _create in indexes:
                if constraint:
                    cr.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"')
                else:
                    cr.execute(f"DROP INDEX {name}")
            connection.commit()
            try:
                started = time.perf_counter()
                for lo in range(1, rows + 1, CHUNK):
                    hi = min(rows, lo + CHUNK - 1)
                    cr.execute(
                        LOAD_SQL,
                        {
                            "job_base": job_base,
                            "company": company,
                            "backend": backend,
                            "endpoint": endpoint,
                            "type": event_type,
                            "channel": channel,
                            "lo": lo,
                            "hi": hi,
                        },
                    )
                    connection.commit()
                    elapsed = time.perf_counter() - started
                    rate = f"{elapsed:.0f} s ({hi / elapsed:,.0f} rows/s)"
                    print(f"  loaded {hi:,} of {rows:,} in {rate}", flush=True)
            finally:
                connection.rollback()
                started = time.perf_counter()
                for _name, _table, _constraint, create in indexes:
                    cr.execute(create)
                    connection.commit()
                elapsed = time.perf_counter() - started
                print(f"  {len(indexes)} indexes built again in {elapsed:.0f} s", flush=True)
        connection.autocommit = True
        with connection.cursor() as cr:
            started = time.perf_counter()
            for table in LOADED_TABLES:
                cr.execute(f"VACUUM ANALYZE {table}")
            print(f"  vacuumed and analysed in {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        connection.close()


def run_retention(config_path, db, seconds, batch):
    output = subprocess.run(
        [
            os.environ.get("INTEGRATION_HUB_PYTHON", sys.executable),
            "odoo-bin",
            "shell",
            "-c",
            config_path,
            "-d",
            db,
            "--no-http",
            "--log-level=warn",
        ],
        cwd=os.environ.get("ODOO_SRC", "/opt/odoo"),
        input=RETENTION.format(seconds=seconds, batch=batch),
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 600,
    ).stdout
    for line in output.splitlines():
        if line.startswith("RETENTION "):
            _, deleted, elapsed, start, end = line.split()
            return int(deleted), float(elapsed), float(start), float(end)
    raise RuntimeError(f"retention printed no figure: {output[-2000:]}")


def measure(args, config, template, db, tmp):
    """Every figure of the run, in a dict."""
    figures = {}
    # Intake and reads with the job runner off: the webhooks' messages stay queued.
    server = live_odoo.OdooServer(template, db, tmp, workers=2, job_runner=False).start()
    try:
        endpoint = server.rpc("integration.endpoint", "search", [["token", "=", TOKEN]])
        server.rpc("integration.endpoint", "write", endpoint, {"rate_limit_per_minute": 10**7})
        client = Client(server)
        # Intake first: the reads then see the same backlog (its queued messages) on the
        # empty and on the loaded store, and only the store's size differs.
        figures["empty_ingest"] = ingest(server, args.ingest, args.concurrency)
        figures["empty_reads"] = client.reads(args.repeat)
        print(f"empty store: {figures['empty_reads']} {figures['empty_ingest']}", flush=True)
        print(f"bulk-loading {args.rows:,} done messages", flush=True)
        started = time.perf_counter()
        bulk_load(config, args.rows)
        figures["load_seconds"] = time.perf_counter() - started
        print(f"  in {figures['load_seconds']:.0f} s", flush=True)
        figures["loaded_reads"] = client.reads(args.repeat)
        figures["loaded_ingest"] = ingest(server, args.ingest, args.concurrency)
        print(f"loaded store: {figures['loaded_reads']} {figures['loaded_ingest']}", flush=True)
        # Retention in its own process, as the cron runs it, while webhooks arrive.
        stop = threading.Event()
        window = []

        def keep_sending():
            ingest(server, 10**6, args.concurrency, stop, window)

        sender = threading.Thread(target=keep_sending)
        sender.start()
        try:
            figures["retention"] = run_retention(template, db, args.retention_seconds, args.batch)
        finally:
            stop.set()
            sender.join()
        # Only the requests sent while retention deleted (not while its process started).
        _, _, start, end = figures["retention"]
        during = [latency for wall, latency in window if start <= wall <= end]
        figures["during_ingest"] = (
            len(during) / (end - start),
            p(during, 0.99) if during else 0.0,
            len(during),
        )
        figures["backlog_after"] = client.health()["backlog"]
    finally:
        server.stop()
    return figures


def report(args, figures):
    print()
    print(f"store: {args.rows:,} done messages (+ as many attempts and done jobs)")
    load = figures["load_seconds"]
    print(f"bulk load: {load:.0f} s, {args.rows / load:,.0f} messages/s (indexes built included)")
    print("| figure | empty store | loaded store | ratio |")
    print("|---|---|---|---|")
    for name, empty in figures["empty_reads"].items():
        loaded = figures["loaded_reads"][name]
        print(f"| {name} p50 | {empty:.1f} ms | {loaded:.1f} ms | {loaded / empty:.2f}x |")
    empty_rate, empty_p99, _ = figures["empty_ingest"]
    loaded_rate, loaded_p99, _ = figures["loaded_ingest"]
    print(
        f"| ingest, {args.concurrency} senders | {empty_rate:.0f} req/s | "
        f"{loaded_rate:.0f} req/s | {loaded_rate / empty_rate:.2f}x |"
    )
    print(
        f"| ingest p99 | {empty_p99:.1f} ms | {loaded_p99:.1f} ms | {loaded_p99 / empty_p99:.2f}x |"
    )
    deleted, elapsed, _, _ = figures["retention"]
    rate, p99, sent = figures["during_ingest"]
    print()
    print(
        f"retention: {deleted:,} messages deleted (with attempts and jobs) in {elapsed:.1f} s: "
        f"{deleted / elapsed:.0f} messages/s, batches of {args.batch}"
    )
    print(
        f"ingest during retention: {sent} webhooks, {rate:.0f} req/s, p99 {p99:.1f} ms "
        f"({rate / loaded_rate:.2f}x the rate, {p99 / loaded_p99:.2f}x the p99 without "
        f"retention); backlog after: {figures['backlog_after']}"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--ingest", type=int, default=2000, help="webhooks per intake run")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=50, help="requests per read figure")
    parser.add_argument("--retention-seconds", type=int, default=60)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    config = configparser.ConfigParser(interpolation=None)
    config.read(args.config)
    db = config["options"]["db_name"]
    config["options"]["integration_hub_metrics_token"] = METRICS_TOKEN
    with tempfile.TemporaryDirectory() as tmp:
        template = os.path.join(tmp, "template.conf")
        with open(template, "w") as handle:
            config.write(handle)
        figures = measure(args, config, template, db, tmp)
    report(args, figures)


if __name__ == "__main__":
    main()
