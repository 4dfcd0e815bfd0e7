#!/usr/bin/env python3
"""MCP catalog figures against a running Wharf (bench/mcp starts it).

1. Publish latency, cold and warm cache: each publish references an npm
   package on a stand-in upstream (this script serves it on 127.0.0.1 and
   delays every answer by UPSTREAM_DELAY_MS, like a real network). Cold: a
   package never looked up before. Warm: the same package again (a new
   server version each time), answered from Wharf's cache.
2. Search p50/p99 over N synthetic servers (remote-only, so seeding needs
   no upstream), one client, sequential requests.
Usage: mcp-load.py BASE_URL TOKEN SERVERS SAMPLES
"""
import http.client
import http.server
import json
import random
import statistics
import sys
import threading
import time
import urllib.parse

UPSTREAM_DELAY_MS = 50
WORDS = ("weather forecast github slack postgres files search notes calendar mail "
         "browser docker kubernetes jira linear sentry stripe maps translate shell "
         "memory time fetch sqlite redis s3 figma notion drive sheets").split()


class Upstream(http.server.BaseHTTPRequestHandler):
    """npm: GET /npm/{name}/{version} -> a version document naming its server."""

    def do_GET(self):
        parts = [urllib.parse.unquote(p) for p in self.path.split("/")]
        time.sleep(UPSTREAM_DELAY_MS / 1000)
        if len(parts) == 4 and parts[1] == "npm":
            name, version = parts[2], parts[3]
            server = "com.bench/" + name.replace("bench-", "")
            body = json.dumps({"name": name, "version": version, "mcpName": server}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(404)
            self.send_header("content-length", "0")
            self.end_headers()

    def log_message(self, *args):
        pass


def start_upstream(port):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()


class Client:
    def __init__(self, base, token):
        url = urllib.parse.urlparse(base)
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        self.token = token

    def request(self, method, path, body=None):
        headers = {"authorization": f"Bearer {self.token}"}
        if body is not None:
            headers["content-type"] = "application/json"
            body = json.dumps(body)
        start = time.perf_counter()
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        return response.status, data, (time.perf_counter() - start) * 1000


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    base, token, servers, samples = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    client = Client(base, token)

    def publish(name, version, packages=None, remotes=None):
        doc = {"name": name, "description": " ".join(random.sample(WORDS, 4)), "version": version}
        if packages:
            doc["packages"] = packages
        if remotes:
            doc["remotes"] = remotes
        status, data, ms = client.request("POST", "/v0/publish", doc)
        if status != 200:
            raise SystemExit(f"publish {name} {version}: HTTP {status}: {data[:300]!r}")
        return ms

    def npm(name):
        return [{"registryType": "npm", "identifier": f"bench-{name}", "version": "1.0.0",
                 "transport": {"type": "stdio"}}]

    cold = [publish(f"com.bench/cold{i}", "1.0.0", npm(f"cold{i}")) for i in range(samples)]
    publish("com.bench/warm", "0.0.1", npm("warm"))
    warm = [publish("com.bench/warm", f"1.0.{i}", npm("warm")) for i in range(samples)]
    print(f"RESULT publish-cold n={len(cold)} p50_ms={statistics.median(cold):.2f} p99_ms={pct(cold, 99):.2f} "
          f"(upstream answers after {UPSTREAM_DELAY_MS} ms)")
    print(f"RESULT publish-warm n={len(warm)} p50_ms={statistics.median(warm):.2f} p99_ms={pct(warm, 99):.2f}")

    started = time.perf_counter()
    random.seed(7)
    for i in range(servers):
        words = random.sample(WORDS, 2)
        publish(f"com.bench/{words[0]}-{words[1]}-{i}", "1.0.0",
                remotes=[{"type": "streamable-http", "url": f"https://mcp.bench.example/{i}"}])
    seed_s = time.perf_counter() - started
    print(f"RESULT seed servers={servers} seconds={seed_s:.1f} publishes_per_s={servers / seed_s:.0f}")

    latencies = []
    for i in range(samples * 4):
        q = " ".join(random.sample(WORDS, 1 + i % 2))
        status, data, ms = client.request("GET", "/v0/servers?" + urllib.parse.urlencode({"search": q, "limit": 30}))
        if status != 200:
            raise SystemExit(f"search {q!r}: HTTP {status}")
        latencies.append(ms)
    print(f"RESULT search servers={servers} n={len(latencies)} p50_ms={statistics.median(latencies):.2f} "
          f"p99_ms={pct(latencies, 99):.2f}")


if __name__ == "__main__":
    if sys.argv[1] == "--upstream":
        start_upstream(int(sys.argv[2]))
        threading.Event().wait()
    main()
