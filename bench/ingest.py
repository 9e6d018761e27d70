"""Driven by bench/ingest: runs the server, the load (wrk) and prints the figures."""

import argparse
import configparser
import functools
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import uuid

import requests

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "setup"))
import live_odoo
import traffic

CONNECTIONS = 16
THREADS = 2
# Each wrk thread sends its own file of pre-signed requests, each request once: every
# webhook-id of every phase is new. A thread that runs out stops (its count says so).
# Every answer is counted by status; done() prints the counts and the run's duration.
WRK_SCRIPT = """
local counter = 0
local threads = {}
local requests = {}
local index = 0
statuses = {}
exhausted = 0
function setup(thread)
    thread:set("tid", counter)
    counter = counter + 1
    threads[#threads + 1] = thread
end
function init(args)
    if args[1] == nil then return end
    for line in io.lines(args[1] .. "." .. tid) do
        local msg_id, timestamp, signature, body =
            line:match("([^\\t]*)\\t([^\\t]*)\\t([^\\t]*)\\t(.*)")
        requests[#requests + 1] = wrk.format("POST", nil, {
            ["Content-Type"] = "application/json",
            ["webhook-id"] = msg_id,
            ["webhook-timestamp"] = timestamp,
            ["webhook-signature"] = signature,
        }, body)
    end
end
function request()
    if #requests == 0 then return wrk.request() end
    if index >= #requests then
        exhausted = 1
        wrk.thread:stop()
        -- Never sent twice: an empty GET the server answers with an error status.
        return wrk.format("GET", "/integration/bench-exhausted")
    end
    index = index + 1
    return requests[index]
end
function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
    for _, thread in ipairs(threads) do
        for status, count in pairs(thread:get("statuses")) do
            io.write(string.format("STATUS %d %d\\n", status, count))
        end
        io.write(string.format("EXHAUSTED %d\\n", thread:get("exhausted")))
    end
    io.write(string.format("DURATION_US %d\\n", summary.duration))
end
"""


def native_webhook(server):
    """An 'On webhook' automation that creates a partner from the payload's name."""
    model_id = server.rpc("ir.model", "search", [["model", "=", "res.partner"]])[0]
    automation_id = server.rpc(
        "base.automation",
        "create",
        {
            "name": "Bench: create partner",
            "model_id": model_id,
            "trigger": "on_webhook",
            "record_getter": "model.env.company.partner_id",
            "action_server_ids": [
                [
                    0,
                    0,
                    {
                        "name": "Create partner",
                        "model_id": model_id,
                        "state": "code",
                        "code": "env['res.partner'].create({'name': payload.get('name')})",
                    },
                ]
            ],
        },
    )
    uuid_ = server.rpc("base.automation", "read", [automation_id], ["webhook_uuid"])[0]
    # Not the automation's own URL: it follows web.base.url, not this server.
    return f"{server.url}/web/hook/{uuid_['webhook_uuid']}"


def bench_endpoint(server, seconds):
    """The demo endpoint, with a rate limit high enough not to refuse and a timestamp
    tolerance longer than a phase lasts, so no signature goes stale during the run."""
    endpoint_id = server.rpc("integration.endpoint", "search", [["token", "=", "demo-contacts"]])
    server.rpc(
        "integration.endpoint",
        "write",
        endpoint_id,
        {"rate_limit_per_minute": 10**7, "timestamp_tolerance": max(300, 2 * seconds + 120)},
    )
    return "demo-contacts"


@functools.cache
def _sample():
    return traffic.load_sample("contact.upserted")


def _event(number=None):
    return traffic.realistic(_sample(), number or uuid.uuid4().hex[:12])


def write_signed_requests(directory, phase, count_per_thread):
    """One file per wrk thread of requests signed now, each with a new webhook-id."""
    base = str(directory / f"requests-{phase}")
    for thread in range(THREADS):
        with open(f"{base}.{thread}", "w") as file:
            for number in range(count_per_thread):
                event = _event(f"{phase}-{thread}-{number}-{uuid.uuid4().hex[:6]}")
                body, headers = traffic.signed_request(traffic.DEMO_SECRET, event)
                file.write(
                    "\t".join(
                        (
                            headers["webhook-id"],
                            headers["webhook-timestamp"],
                            headers["webhook-signature"],
                            body.decode(),
                        )
                    )
                    + "\n"
                )
    return base


def run_wrk(url, seconds, script_args=(), body=None):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(WRK_SCRIPT)
        if body is not None:
            lua.write(
                f'\nwrk.method = "POST"\nwrk.body = {json.dumps(json.dumps(body))}\n'
                'wrk.headers["Content-Type"] = "application/json"\n'
            )
    command = [
        "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        # A slow answer on a loaded machine is measured, not dropped as a socket error.
        "--timeout",
        "30s",
        "--latency",
        "-s",
        lua.name,
        url,
    ]
    if script_args:
        command += ["--", *script_args]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    os.unlink(lua.name)
    return parse_wrk(output)


def parse_wrk(output):
    def millis(text):
        value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    statuses = {}
    for status, count in re.findall(r"^STATUS (\d+) (\d+)$", output, re.M):
        statuses[int(status)] = statuses.get(int(status), 0) + int(count)
    errors = re.search(r"Socket errors:.*", output)
    return {
        "statuses": statuses,
        "seconds": int(re.search(r"^DURATION_US (\d+)$", output, re.M).group(1)) / 1e6,
        "exhausted": sum(int(n) for n in re.findall(r"^EXHAUSTED (\d+)$", output, re.M)),
        "p50": millis(re.search(r"\s50%\s+(\S+)", output).group(1)),
        "p99": millis(re.search(r"\s99%\s+(\S+)", output).group(1)),
        "errors": errors.group(0) if errors else "",
    }


def stored(server):
    return server.rpc("integration.message", "search_count", [["direction", "=", "in"]])


def run_case(server, tmp, *, label, target, expected, seconds, signed, body):
    """Warm-up, then the measured run; only answers with the expected status count.

    Any other status, a socket error or a thread that ran out of fresh requests fails
    the run. For signed webhooks the messages stored during the run must match the
    202s counted (up to the requests in flight when wrk stopped).
    """
    for phase, duration in (("warm-up", 3), ("measured", seconds)):
        # One request first, waited for: before the warm-up the workers load the route;
        # before the measured run it queues behind what the warm-up left in flight, so
        # the measured run starts on idle workers.
        if signed:
            first = traffic.send(
                server.url, target.rsplit("/", 1)[1], traffic.DEMO_SECRET, _event()
            )
        else:
            first = requests.post(target, json=body, timeout=300)
        if first.status_code != expected:
            sys.exit(f"{label}: run refused: a lone request got HTTP {first.status_code}")
        script_args = ()
        if signed:
            # Signed just before the phase; enough for 3,000 requests/s per thread.
            base = write_signed_requests(tmp, phase, 3000 * duration)
            script_args = (base,)
            before = stored(server)
        result = run_wrk(target, duration, script_args, body)
        if signed:
            result["stored"] = stored(server) - before
        good = result["statuses"].get(expected, 0)
        rate = good / result["seconds"]
        unexpected = {s: n for s, n in result["statuses"].items() if s != expected}
        print(
            f"{label} [{phase}]: {rate:.0f} req/s ({good} x HTTP {expected} in "
            f"{result['seconds']:.1f} s), p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms; "
            f"other statuses: {unexpected or 'none'}"
            + (f"; messages stored: {result['stored']}" if signed else "")
            + (f"; {result['errors']}" if result["errors"] else ""),
            flush=True,
        )
        problems = []
        if unexpected:
            problems.append(f"unexpected answers {unexpected}")
        if result["errors"]:
            problems.append(result["errors"])
        if result["exhausted"]:
            problems.append("a wrk thread ran out of fresh signed requests")
        if signed and not good <= result["stored"] <= good + CONNECTIONS:
            problems.append(f"{result['stored']} messages stored for {good} answers 202")
        if not good and phase == "measured":
            problems.append("no answer counted")
        if problems:
            sys.exit(f"{label} [{phase}]: run refused: {'; '.join(problems)}")
    return dict(result, rps=rate)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--seconds", type=int, default=15)
    args = parser.parse_args()
    config = configparser.ConfigParser(interpolation=None)
    config.read(args.config)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        # The job runner is off while measuring intake: the jobs wait, as in a burst.
        server = live_odoo.OdooServer(
            args.config, config["options"]["db_name"], tmp, workers=2, job_runner=False
        ).start()
        try:
            hook_url = native_webhook(server)
            token = bench_endpoint(server, args.seconds)
            cases = [
                (
                    "cheapest route /web/webclient/version_info",
                    f"{server.url}/web/webclient/version_info",
                    200,
                    False,
                    {"jsonrpc": "2.0", "method": "call", "params": {}},
                ),
                (
                    "native webhook (base_automation, creates a partner)",
                    hook_url,
                    200,
                    False,
                    {"name": "Bench partner"},
                ),
                (
                    "signed webhook /integration/webhook (202: stored + job queued)",
                    f"{server.url}/integration/webhook/{token}",
                    202,
                    True,
                    None,
                ),
            ]
            for label, target, expected, signed, body in cases:
                results[label] = run_case(
                    server,
                    pathlib.Path(tmp),
                    label=label,
                    target=target,
                    expected=expected,
                    seconds=args.seconds,
                    signed=signed,
                    body=body,
                )
        finally:
            server.stop()
    cheapest, native, ours = results.values()
    print(
        f"ingest: {ours['rps']:.0f} webhooks/s accepted (202 only, each a new message), "
        f"p50 {ours['p50']:.1f} ms, p99 {ours['p99']:.1f} ms at {CONNECTIONS} connections"
    )
    print(f"ratio vs cheapest route: {ours['rps'] / cheapest['rps']:.2f}x (target >= 0.5x)")
    print(f"ratio vs native webhook: {ours['rps'] / native['rps']:.2f}x (target >= 3x)")


if __name__ == "__main__":
    main()
