"""Driven by bench/cluster: starts the nodes and HAProxy, runs wrk, prints the figures."""

import argparse
import configparser
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "setup"))
import cluster
import ingest
import live_odoo


def signed_requests(tmp, name, seconds):
    """Pre-signed requests for one wrk run: every webhook-id new, never replayed."""
    directory = pathlib.Path(tmp) / name.replace(" ", "-").replace(",", "")
    directory.mkdir()
    return ingest.write_signed_requests(directory, "run", 1000 * seconds)


def measure(label, url, tmp, seconds):
    target = f"{url}/integration/webhook/demo-contacts"
    warm_up = signed_requests(tmp, f"{label}-warm-up", 3)
    ingest.run_wrk(target, 3, (warm_up,))
    base = signed_requests(tmp, label, seconds)
    result = ingest.run_wrk(target, seconds, (base,))
    accepted = sum(n for status, n in result["statuses"].items() if status in (200, 202))
    result["rps"] = accepted / result["seconds"]
    result["non_2xx"] = sum(result["statuses"].values()) - accepted
    print(
        f"{label}: {result['rps']:.0f} webhooks/s, p50 {result['p50']:.1f} ms, "
        f"p99 {result['p99']:.1f} ms"
        f"{', non-2xx ' + str(result['non_2xx']) if result['non_2xx'] else ''} {result['errors']}",
        flush=True,
    )
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2, help="HTTP workers per node")
    args = parser.parse_args()
    config = configparser.ConfigParser(interpolation=None)
    config.read(args.config)
    db = config["options"]["db_name"]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        # The job runners are off while measuring intake: the jobs wait, as in a burst.
        server = live_odoo.OdooServer(
            args.config, db, tmp, workers=args.workers, job_runner=False
        ).start()
        try:
            ingest.bench_endpoint(server, args.seconds)
            results["direct"] = measure("1 node, no HAProxy", server.url, tmp, args.seconds)
        finally:
            server.stop()
        for nodes in (1, 2):
            started = cluster.Cluster(
                args.config, db, tmp, nodes=nodes, workers=args.workers, job_runner=False
            ).start()
            try:
                results[nodes] = measure(
                    f"{nodes} node{'s' if nodes > 1 else ''} behind HAProxy",
                    started.url,
                    tmp,
                    args.seconds,
                )
            finally:
                started.stop()
    direct, one, two = results["direct"], results[1], results[2]
    print(
        f"cluster: 1 node {one['rps']:.0f} webhooks/s (p99 {one['p99']:.1f} ms), "
        f"2 nodes {two['rps']:.0f} webhooks/s (p99 {two['p99']:.1f} ms) through HAProxy, "
        f"{args.workers} workers per node, 16 connections"
    )
    print(
        f"ratio 2 nodes / 1 node: {two['rps'] / one['rps']:.2f}x; "
        f"HAProxy's cost: 1 node behind it / without it {one['rps'] / direct['rps']:.2f}x"
    )


if __name__ == "__main__":
    main()
