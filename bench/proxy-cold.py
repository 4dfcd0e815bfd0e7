#!/usr/bin/env python3
"""Times first (cold) requests for proxied project pages, one at a time.

For each name, in turn: GET /simple/{name}/ straight from the upstream, then
the same page through Wharf, which has never seen the name and so fetches it
from that upstream. Each server is asked over one keep-alive connection
(as pip and uv do), with the PEP 691 JSON Accept header; a time runs from
sending the request to the last byte of the body. Both answers must be 200
and list the same number of files. Afterwards each name is asked of Wharf
once more (warm: served from its caches).

Usage: proxy-cold.py --direct URL --wharf URL --out SAMPLES.tsv NAME...
Prints one line:
  COLD n=N direct_p50_ms=.. direct_p90_ms=.. wharf_p50_ms=.. wharf_p90_ms=..
       diff_p50_ms=.. diff_p90_ms=.. diff_max_ms=.. warm_p50_ms=.. warm_p90_ms=..
where diff is Wharf's time minus the upstream's for the same name.
Exits 1 if any answer is wrong.
"""

import argparse
import http.client
import json
import sys
import time
from urllib.parse import urlsplit

ACCEPT = "application/vnd.pypi.simple.v1+json"


class Client:
    def __init__(self, base: str):
        u = urlsplit(base)
        self.host, self.port, self.prefix = u.hostname, u.port, u.path.rstrip("/")
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def get(self, path: str):
        """(status, body, seconds)"""
        for attempt in (0, 1):
            try:
                t0 = time.perf_counter()
                self.conn.request("GET", self.prefix + path, headers={"Accept": ACCEPT})
                r = self.conn.getresponse()
                body = r.read()
                return r.status, body, time.perf_counter() - t0
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A keep-alive connection the server closed: reconnect once.
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                if attempt:
                    raise
        raise AssertionError("unreachable")


def pct(values, p):
    """Nearest-rank percentile."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, -(-len(s) * p // 100) - 1))
    return s[int(k)]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--direct", required=True)
    ap.add_argument("--wharf", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("names", nargs="+")
    a = ap.parse_args()
    direct, wharf = Client(a.direct), Client(a.wharf)
    # Open both connections (and warm the upstream's code path) on a name
    # nobody measures: its 404 is cached by nobody that matters here.
    direct.get("/simple/-/")
    rows, errors = [], 0
    for name in a.names:
        path = f"/simple/{name}/"
        ds, db, dt = direct.get(path)
        ws, wb, wt = wharf.get(path)
        ok = ds == 200 and ws == 200
        if ok:
            nd, nw = len(json.loads(db)["files"]), len(json.loads(wb)["files"])
            ok = nd == nw and nd > 0
            if not ok:
                print(f"{name}: upstream lists {nd} files, wharf {nw}", file=sys.stderr)
        else:
            print(f"{name}: upstream answered {ds}, wharf {ws}: {wb[:300]!r}", file=sys.stderr)
        errors += not ok
        rows.append([name, dt * 1000, wt * 1000])
    for row in rows:
        ws, _, wt = wharf.get(f"/simple/{row[0]}/")
        errors += ws != 200
        row.append(wt * 1000)
    with open(a.out, "w") as f:
        f.write("name\tdirect_ms\twharf_cold_ms\twharf_warm_ms\n")
        for name, d, w, warm in rows:
            f.write(f"{name}\t{d:.3f}\t{w:.3f}\t{warm:.3f}\n")
    d = [r[1] for r in rows]
    w = [r[2] for r in rows]
    diff = [r[2] - r[1] for r in rows]
    warm = [r[3] for r in rows]
    print(
        f"COLD n={len(rows)} direct_p50_ms={pct(d, 50):.2f} direct_p90_ms={pct(d, 90):.2f} "
        f"wharf_p50_ms={pct(w, 50):.2f} wharf_p90_ms={pct(w, 90):.2f} "
        f"diff_p50_ms={pct(diff, 50):.2f} diff_p90_ms={pct(diff, 90):.2f} diff_max_ms={max(diff):.2f} "
        f"warm_p50_ms={pct(warm, 50):.2f} warm_p90_ms={pct(warm, 90):.2f} errors={errors}"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
