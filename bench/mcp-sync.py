#!/usr/bin/env python3
"""MCP catalog sync figures against a running Wharf (bench/mcp-sync starts it).

A stand-in upstream registry on 127.0.0.1 serves /v0.1/servers (paged, with
updated_since and cursors) and a stand-in npm registry serves the packages
those servers pin, each with the server's mcpName. Half the servers are
remote-only, half pin one npm package (the same pin in every version of a
server, so after its first version the check is answered from Wharf's cache).

1. Cold sync: SERVERS servers x VERSIONS versions (1.0.x), through
   POST /api/v1/admin/mcp/sync; new versions per second over the whole run.
2. Warm sync: every server gets VERSIONS more versions (2.0.x) pinning the
   same packages, all package checks served from the warm cache. The run
   also reads again the versions of the first set that changed within five
   minutes of its start (all of them, here): see `pages`.
3. Search p50/p99 over the mirrored catalog, one client, sequential.
Usage: mcp-sync.py --upstream PORT | mcp-sync.py BASE_URL TOKEN UPSTREAM_PORT SERVERS VERSIONS SAMPLES
"""
import datetime
import http.client
import http.server
import json
import random
import statistics
import sys
import threading
import time
import urllib.parse

WORDS = ("weather forecast github slack postgres files search notes calendar mail "
         "browser docker kubernetes jira linear sentry stripe maps translate shell "
         "memory time fetch sqlite redis s3 figma notion drive sheets").split()
OFFICIAL = "io.modelcontextprotocol.registry/official"
STATE = {"entries": [], "keys": [], "owners": {}}
LOCK = threading.Lock()


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def build(servers, versions, major, updated):
    entries = []
    for i in range(servers):
        # The same names in every set: later sets add versions to the same servers.
        words = random.Random(i).sample(WORDS, 2)
        name = f"com.bench/{words[0]}-{words[1]}-{i}"
        for v in range(versions):
            doc = {"name": name, "description": " ".join(random.Random(i * 100 + v).sample(WORDS, 4)),
                   "version": f"{major}.0.{v}"}
            if i % 2:
                doc["packages"] = [{"registryType": "npm", "identifier": f"bench-pkg-{i}",
                                    "version": "1.0.0", "transport": {"type": "stdio"}}]
            else:
                doc["remotes"] = [{"type": "streamable-http", "url": f"https://mcp.bench.example/{i}"}]
            meta = {"status": "active", "publishedAt": "2025-01-01T00:00:00Z",
                    "updatedAt": iso(updated), "isLatest": v == versions - 1}
            entries.append({"server": doc, "_meta": {OFFICIAL: meta}})
    return entries


class Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle's
    # algorithm and the client's delayed ACK add 40 ms to every answer.
    disable_nagle_algorithm = True

    def send_json(self, status, value):
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        parts = [urllib.parse.unquote(p) for p in url.path.split("/")]
        if url.path == "/v0.1/servers":
            limit = min(int(q.get("limit", "30")), 100)
            since = q.get("updated_since")
            with LOCK:
                entries, keys = STATE["entries"], STATE["keys"]
            start = 0
            if "cursor" in q:
                lo, hi = 0, len(keys)
                while lo < hi:
                    mid = (lo + hi) // 2
                    if keys[mid] <= q["cursor"]:
                        lo = mid + 1
                    else:
                        hi = mid
                start = lo
            page = []
            i = start
            while i < len(entries) and len(page) < limit:
                e = entries[i]
                if since is None or e["_meta"][OFFICIAL]["updatedAt"] >= since.replace("+00:00", "Z"):
                    page.append(e)
                i += 1
            meta = {"count": len(page)}
            if i < len(entries):
                meta["nextCursor"] = keys[i - 1]
            self.send_json(200, {"servers": page, "metadata": meta})
        elif len(parts) == 4 and parts[1] == "npm":
            name, version = parts[2], parts[3]
            server = STATE["owners"].get(name)
            if server is None:
                self.send_json(404, {})
            else:
                self.send_json(200, {"name": name, "version": version, "mcpName": server})
        else:
            self.send_json(404, {})

    def do_POST(self):
        # /control?servers=N&versions=V&major=M: serve that set from now on.
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(self.path).query))
        now = datetime.datetime.now(datetime.timezone.utc)
        added = build(int(q["servers"]), int(q["versions"]), int(q["major"]), now)
        with LOCK:
            entries = STATE["entries"] + added
            entries.sort(key=lambda e: (e["server"]["name"], e["server"]["version"]))
            STATE["entries"] = entries
            STATE["keys"] = [f'{e["server"]["name"]}:{e["server"]["version"]}' for e in entries]
            for e in added:
                for p in e["server"].get("packages", []):
                    STATE["owners"][p["identifier"]] = e["server"]["name"]
        self.send_json(200, {"entries": len(STATE["entries"])})

    def log_message(self, *args):
        pass


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    base, token, upstream_port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    servers, versions, samples = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    url = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
    control = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=600)

    def request(c, method, path, headers=None):
        start = time.perf_counter()
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, data, time.perf_counter() - start

    auth = {"authorization": f"Bearer {token}"}
    for major, label in ((1, "cold"), (2, "warm")):
        status, data, _ = request(control, "POST", f"/control?servers={servers}&versions={versions}&major={major}")
        assert status == 200, data
        status, data, seconds = request(conn, "POST", "/api/v1/admin/mcp/sync", auth)
        if status != 200:
            raise SystemExit(f"sync: HTTP {status}: {data[:300]!r}")
        report = json.loads(data)["reports"][0]
        if report.get("error") or not report["complete"]:
            raise SystemExit(f"sync stopped: {report}")
        n = report["added"]
        expected = servers * versions
        if n != expected or report["held"]:
            raise SystemExit(f"sync {label}: added {n} (held {report['held']}), expected {expected} served: {report}")
        print(f"RESULT sync-{label} versions={n} pages={report['pages']} seconds={seconds:.2f} "
              f"versions_per_s={n / seconds:.0f}")

    latencies = []
    random.seed(11)
    for i in range(samples):
        q = " ".join(random.sample(WORDS, 1 + i % 2))
        status, data, seconds = request(conn, "GET", "/v0.1/servers?" + urllib.parse.urlencode({"search": q, "limit": 30}))
        if status != 200:
            raise SystemExit(f"search {q!r}: HTTP {status}")
        latencies.append(seconds * 1000)
    print(f"RESULT search-mirrored servers={servers} versions={2 * servers * versions} n={len(latencies)} "
          f"p50_ms={statistics.median(latencies):.2f} p99_ms={pct(latencies, 99):.2f}")


if __name__ == "__main__":
    if sys.argv[1] == "--upstream":
        server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), Upstream)
        server.serve_forever()
    main()
