"""Driven by bench/ingest: runs the server, the load (wrk) and prints the figures."""

import argparse
import configparser
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "setup"))
import live_odoo
import traffic

CONNECTIONS = 16
THREADS = 2
# Each wrk thread replays its own file of pre-signed requests, so every webhook-id is new.
WRK_SCRIPT = """
local counter = 0
local requests = {}
local index = 0
function setup(thread)
    thread:set("tid", counter)
    counter = counter + 1
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
    index = index % #requests + 1
    return requests[index]
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


def bench_endpoint(server):
    """An endpoint like the demo one, with a rate limit high enough not to refuse."""
    endpoint_id = server.rpc("integration.endpoint", "search", [["token", "=", "demo-contacts"]])
    server.rpc("integration.endpoint", "write", endpoint_id, {"rate_limit_per_minute": 10**7})
    return "demo-contacts"


def write_signed_requests(directory, count_per_thread):
    sample = traffic.load_sample("contact.upserted")
    base = str(directory / "requests")
    for thread in range(THREADS):
        with open(f"{base}.{thread}", "w") as file:
            for number in range(count_per_thread):
                event = traffic.realistic(sample, f"{thread}-{number}-{uuid.uuid4().hex[:6]}")
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


def run_wrk(url, seconds, script, script_args=(), body=None):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
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

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = millis(re.search(r"\s50%\s+(\S+)", output).group(1))
    p99 = millis(re.search(r"\s99%\s+(\S+)", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    return {
        "rps": rps,
        "p50": p50,
        "p99": p99,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "errors": errors.group(0) if errors else "",
    }


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
            token = bench_endpoint(server)
            base = write_signed_requests(pathlib.Path(tmp), count_per_thread=3000 * args.seconds)
            cases = [
                (
                    "cheapest route /web/webclient/version_info",
                    f"{server.url}/web/webclient/version_info",
                    (),
                    {"jsonrpc": "2.0", "method": "call", "params": {}},
                ),
                (
                    "native webhook (base_automation, creates a partner)",
                    hook_url,
                    (),
                    {"name": "Bench partner"},
                ),
                (
                    "signed webhook /integration/webhook (stored + job queued)",
                    f"{server.url}/integration/webhook/{token}",
                    (base,),
                    None,
                ),
            ]
            for label, target, script_args, body in cases:
                script = WRK_SCRIPT if script_args else ""
                run_wrk(target, 3, script, script_args, body)  # warm-up
                results[label] = r = run_wrk(target, args.seconds, script, script_args, body)
                print(
                    f"{label}: {r['rps']:.0f} req/s, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms"
                    f"{', non-2xx ' + str(r['non_2xx']) if r['non_2xx'] else ''} {r['errors']}",
                    flush=True,
                )
            print(f"messages stored: {server.rpc('integration.message', 'search_count', [])}")
        finally:
            server.stop()
    cheapest, native, ours = results.values()
    print(
        f"ingest: {ours['rps']:.0f} webhooks/s accepted, p50 {ours['p50']:.1f} ms, "
        f"p99 {ours['p99']:.1f} ms at {CONNECTIONS} connections"
    )
    print(f"ratio vs cheapest route: {ours['rps'] / cheapest['rps']:.2f}x (target >= 0.5x)")
    print(f"ratio vs native webhook: {ours['rps'] / native['rps']:.2f}x (target >= 3x)")


if __name__ == "__main__":
    main()
