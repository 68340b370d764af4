"""Send requests through the scale profile's load balancer for a fixed time while commands
(stop or kill a replica) run at given moments; exit 1 if a request was lost.

    python3 deploy/compose/lb_check.py http://127.0.0.1:8080 --seconds 8 \\
        --body '{"latent": [0, 0, 0]}' \\
        --at 2 'docker kill latentlab-replica-1' --at 5 'docker stop latentlab-replica-2'

Lost: any answer but a 2xx, or no answer. Apart from those: a response whose status line
came but whose body stopped ("cut"), because its replica was killed in the middle of sending
it. No balancer can retry that one (part of the answer is already with the client), so it is
reported, and allowed up to one per client (what can be in flight on the killed replica).

Prints, for each phase between commands, how many answers each replica gave (HAProxy's
X-Served-By header). Standard library only: CI runs it with the system python3. Bounded:
it stops sending after --seconds, and each request times out after 10 s.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import itertools
import shlex
import subprocess
import sys
import threading
import time
import urllib.parse

Result = tuple[float, str, str]  # (seconds since start, outcome, replica)
CUT = "cut"  # the outcome of a response cut off after its status line


def post(conn: http.client.HTTPConnection, path: str, body: bytes) -> tuple[str, str]:
    """(outcome, replica) of one POST; raises if no status line came back."""
    conn.request("POST", path, body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    replica = response.getheader("X-Served-By", "?")
    try:
        response.read()
    except (OSError, http.client.HTTPException):
        return CUT, replica
    return str(response.status), replica


def send_for(
    url: str, path: str, body: bytes, start: float, stop: float, out: list[Result]
) -> None:
    """One client: POST on a kept-alive connection until `stop`; a new one after a failure."""
    parts = urllib.parse.urlsplit(url)
    conn: http.client.HTTPConnection | None = None
    while time.monotonic() < stop:
        try:
            if conn is None:
                conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
            outcome, replica = post(conn, path, body)
        except (OSError, http.client.HTTPException) as exc:
            outcome, replica = type(exc).__name__, "-"
        out.append((time.monotonic() - start, outcome, replica))  # list.append is atomic
        if not outcome.startswith("2") and conn is not None:
            conn.close()
            conn = None


def summarize(results: list[Result], moments: list[float], clients: int) -> bool:
    """Print answers per replica per phase and what failed; True if nothing was lost."""
    edges = [0.0, *moments, float("inf")]
    for begin, end in itertools.pairwise(edges):
        served = collections.Counter(r for t, o, r in results if begin <= t < end and o[0] == "2")
        label = f"{begin:4.1f}s-" + ("end" if end == float("inf") else f"{end:.1f}s")
        print(f"  {label:>11}: " + ", ".join(f"{r} {n}" for r, n in sorted(served.items())))
    failed = [(t, o, r) for t, o, r in results if not o.startswith("2")]
    for outcome, count in collections.Counter(o for _, o, _ in failed).items():
        where = ", ".join(f"{t:.2f}s ({r})" for t, o, r in failed if o == outcome)
        what = "cut off mid-response by a dying replica" if outcome == CUT else "LOST"
        print(f"  {what}: {count} x {outcome}, at {where}")
    lost = sum(1 for _, o, _ in failed if o != CUT)
    cut = len(failed) - lost
    print(f"  {len(results) - len(failed)} answered, {lost} lost, {cut} cut off mid-response")
    return lost == 0 and cut <= clients and len(results) > 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the balancer, e.g. http://127.0.0.1:8080")
    parser.add_argument("--path", default="/decode")
    parser.add_argument("--body", default='{"latent": [0, 0, 0]}', help="JSON request body")
    parser.add_argument("--seconds", type=float, default=8.0, help="how long to send")
    parser.add_argument("--clients", type=int, default=4, help="concurrent connections")
    parser.add_argument("--at", nargs=2, action="append", default=[], metavar=("SECONDS", "CMD"))
    args = parser.parse_args()

    results: list[Result] = []
    start = time.monotonic()
    stop = start + args.seconds
    clients = [
        threading.Thread(
            target=send_for, args=(args.url, args.path, args.body.encode(), start, stop, results)
        )
        for _ in range(args.clients)
    ]
    for client in clients:
        client.start()
    moments = []
    for at, command in sorted(args.at, key=lambda item: float(item[0])):
        time.sleep(max(0.0, start + float(at) - time.monotonic()))
        moments.append(time.monotonic() - start)
        print(f"  {moments[-1]:4.1f}s: {command}")
        subprocess.run(shlex.split(command), check=True, timeout=60, capture_output=True)
    for client in clients:
        client.join()
    elapsed = time.monotonic() - start
    print(f"  {len(results)} requests in {elapsed:.1f} s ({len(results) / elapsed:.0f}/s):")
    return 0 if summarize(results, moments, args.clients) else 1


if __name__ == "__main__":
    sys.exit(main())
