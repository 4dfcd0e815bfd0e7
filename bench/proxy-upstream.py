#!/usr/bin/env python3
"""A stand-in upstream simple index for bench/proxy (standard library only).

serve: serves every wheel (and sdist) found in the given directories as a
PEP 691 JSON simple index (PEP 503 HTML when the client does not ask for
JSON), on 127.0.0.1 only:

  GET /simple/                      the project list
  GET /simple/{name}/               the project's files: filename, url (absolute,
                                    on this server), hashes.sha256, size,
                                    upload-time (2020-01-01, far older than any
                                    release cooldown), core-metadata (the SHA-256
                                    of the wheel's METADATA), requires-python;
                                    ETag, and 304 on If-None-Match
  GET /files/{filename}             the file, streamed in 1 MiB chunks
  GET /files/{filename}.metadata    a wheel's METADATA (PEP 658)
  GET /_stats                       request counters as JSON (no latency added,
                                    not counted); /_stats?reset=1 zeroes them

--latency-ms N sleeps N ms before answering each request (pages, files,
metadata and 404s alike), as a far-away index would. On SIGTERM or SIGINT the
counters go to stderr as one line, "UPSTREAM-STATS {json}". Pages are built
once at start-up; the files are hashed then (a 200 MB wheel takes about a
second).

synth: writes wheels with bench/mkwheel.py, so they are valid and strict
(RECORD hashes, dist-info METADATA/WHEEL/RECORD):

  proxy-upstream.py synth OUTDIR NAME --count N              # N small wheels NAME 1.0.0 .. 1.0.N-1
  proxy-upstream.py synth OUTDIR NAME --version V --payload-bytes B
                                                             # one wheel with a B-byte random member

Prints the path of each wheel written, one a line.
"""

import argparse
import hashlib
import html
import json
import os
import re
import signal
import sys
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote, urlsplit, parse_qs

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mkwheel  # noqa: E402  (bench/mkwheel.py, beside this file)

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
UPLOAD_TIME = "2020-01-01T00:00:00.000000Z"
CHUNK = 1024 * 1024


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def project_of(filename: str):
    if filename.endswith(".whl"):
        return normalize(filename.split("-", 1)[0])
    if filename.endswith(".tar.gz"):
        stem = filename[: -len(".tar.gz")]
        if "-" in stem:
            return normalize(stem.rsplit("-", 1)[0])
    return None


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                return h.hexdigest()
            h.update(chunk)


def wheel_metadata(path: str):
    """The bytes of a wheel's top-level *.dist-info/METADATA, or None."""
    try:
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                parts = name.split("/")
                if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA":
                    return zf.read(name)
    except zipfile.BadZipFile:
        return None
    return None


def requires_python(metadata: bytes):
    for line in metadata.decode("utf-8", "replace").splitlines():
        if not line.strip():
            break
        if line.lower().startswith("requires-python:"):
            return line.split(":", 1)[1].strip()
    return None


class Index:
    """Everything served, computed once."""

    def __init__(self, dirs, base_url):
        self.files = {}  # filename -> path
        self.metadata = {}  # filename -> METADATA bytes
        entries = {}  # project -> [file entry]
        for d in dirs:
            for filename in sorted(os.listdir(d)):
                project = project_of(filename)
                path = os.path.join(d, filename)
                if project is None or not os.path.isfile(path):
                    continue
                entry = {
                    "filename": filename,
                    "url": f"{base_url}/files/{quote(filename)}",
                    "hashes": {"sha256": sha256_of(path)},
                    "size": os.path.getsize(path),
                    "upload-time": UPLOAD_TIME,
                    "yanked": False,
                }
                meta = wheel_metadata(path) if filename.endswith(".whl") else None
                if meta is not None:
                    self.metadata[filename] = meta
                    entry["core-metadata"] = {"sha256": hashlib.sha256(meta).hexdigest()}
                    # The PEP 658 name that older clients read.
                    entry["dist-info-metadata"] = entry["core-metadata"]
                    rp = requires_python(meta)
                    if rp:
                        entry["requires-python"] = rp
                self.files[filename] = path
                entries.setdefault(project, []).append(entry)
        self.pages = {}  # (project, is_json) -> (body, etag)
        for project, files in entries.items():
            self.pages[(project, True)] = self._page(self._json(project, files))
            self.pages[(project, False)] = self._page(self._html(project, files))
        names = sorted(entries)
        index_json = json.dumps(
            {"meta": {"api-version": "1.1"}, "projects": [{"name": n} for n in names]}
        ).encode()
        index_html = (
            "<!DOCTYPE html><html><body>\n"
            + "".join(f'<a href="{n}/">{n}</a>\n' for n in names)
            + "</body></html>\n"
        ).encode()
        self.pages[("", True)] = self._page(index_json)
        self.pages[("", False)] = self._page(index_html)
        self.projects = len(entries)

    @staticmethod
    def _page(body: bytes):
        return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'

    @staticmethod
    def _json(project, files):
        versions = []
        for f in files:
            name = f["filename"]
            v = name.split("-")[1] if name.endswith(".whl") else name[: -len(".tar.gz")].rsplit("-", 1)[1]
            if v not in versions:
                versions.append(v)
        return json.dumps(
            {
                "meta": {"api-version": "1.1"},
                "name": project,
                "versions": versions,
                "files": files,
            }
        ).encode()

    @staticmethod
    def _html(project, files):
        links = []
        for f in files:
            attrs = f'href="{html.escape(f["url"])}#sha256={f["hashes"]["sha256"]}"'
            if "requires-python" in f:
                attrs += f' data-requires-python="{html.escape(f["requires-python"])}"'
            if "core-metadata" in f:
                sha = f["core-metadata"]["sha256"]
                attrs += f' data-core-metadata="sha256={sha}" data-dist-info-metadata="sha256={sha}"'
            links.append(f"<a {attrs}>{html.escape(f['filename'])}</a><br/>\n")
        return (
            f"<!DOCTYPE html><html><head><title>Links for {project}</title></head><body>\n"
            f"<h1>Links for {project}</h1>\n" + "".join(links) + "</body></html>\n"
        ).encode()


class Stats:
    KINDS = ("pages", "pages_304", "files", "metadata", "not_found", "bytes_sent")

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.counts = {k: 0 for k in self.KINDS}

    def add(self, kind, n=1):
        with self.lock:
            self.counts[kind] += n

    def snapshot(self):
        with self.lock:
            counts = dict(self.counts)
        counts["requests"] = sum(v for k, v in counts.items() if k != "bytes_sent")
        return counts


def make_handler(index: Index, stats: Stats, latency_s: float):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Small answers on a keep-alive connection would otherwise wait for the
        # client's delayed ACK (about 40 ms each).
        disable_nagle_algorithm = True
        server_version = "bench-upstream/1"

        def log_message(self, *args):  # quiet: counters tell what happened
            pass

        def _send(self, status, body=b"", headers=()):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body and self.command != "HEAD":
                self.wfile.write(body)
                stats.add("bytes_sent", len(body))

        def _not_found(self):
            stats.add("not_found")
            self._send(404, b"not found\n", [("Content-Type", "text/plain")])

        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            url = urlsplit(self.path)
            path = unquote(url.path)
            if path == "/_stats":
                if "reset" in parse_qs(url.query):
                    stats.reset()
                body = json.dumps(stats.snapshot()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return None
            if latency_s:
                time.sleep(latency_s)
            if path.startswith("/simple/"):
                return self._page(path[len("/simple/"):].strip("/"))
            if path.startswith("/files/"):
                return self._file(path[len("/files/"):])
            return self._not_found()

        def _page(self, name):
            is_json = JSON_TYPE in (self.headers.get("Accept") or "")
            found = index.pages.get((normalize(name) if name else "", is_json))
            if found is None:
                return self._not_found()
            body, etag = found
            ctype = JSON_TYPE if is_json else "text/html; charset=utf-8"
            headers = [("Content-Type", ctype), ("ETag", etag), ("Vary", "Accept")]
            if self.headers.get("If-None-Match") == etag:
                stats.add("pages_304")
                return self._send(304, b"", headers)
            stats.add("pages")
            self._send(200, body, headers)

        def _file(self, filename):
            if filename.endswith(".metadata") and filename[: -len(".metadata")] in index.metadata:
                stats.add("metadata")
                body = index.metadata[filename[: -len(".metadata")]]
                return self._send(200, body, [("Content-Type", "application/octet-stream")])
            path = index.files.get(filename)
            if path is None:
                return self._not_found()
            stats.add("files")
            size = os.path.getsize(path)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if self.command == "HEAD":
                return
            with open(path, "rb") as f:
                while True:
                    chunk = f.read(CHUNK)
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    stats.add("bytes_sent", len(chunk))

    return Handler


def serve(a) -> int:
    base_url = f"http://127.0.0.1:{a.port}"
    started = time.monotonic()
    index = Index(a.dir, base_url)
    stats = Stats()

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256
        allow_reuse_address = True

    server = Server(("127.0.0.1", a.port), make_handler(index, stats, a.latency_ms / 1000))

    def stop(signum, frame):
        print("UPSTREAM-STATS " + json.dumps(stats.snapshot()), file=sys.stderr, flush=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(
        f"upstream: {len(index.files)} files in {index.projects} projects at {base_url}/simple/, "
        f"latency {a.latency_ms} ms, ready in {time.monotonic() - started:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    server.serve_forever()
    return 0


def synth(a) -> int:
    os.makedirs(a.outdir, exist_ok=True)
    if a.count is not None:
        versions = [f"1.0.{i}" for i in range(a.count)]
    elif a.version:
        versions = [a.version]
    else:
        sys.exit("synth: give --count N or --version V")
    for v in versions:
        print(mkwheel.make_wheel(a.outdir, a.name, v, a.payload_bytes))
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--dir", action="append", required=True, help="a directory of wheels (repeatable)")
    s.add_argument("--latency-ms", type=float, default=0.0)
    s.set_defaults(func=serve)
    g = sub.add_parser("synth")
    g.add_argument("outdir")
    g.add_argument("name")
    g.add_argument("--count", type=int)
    g.add_argument("--version")
    g.add_argument("--payload-bytes", type=int, default=0)
    g.set_defaults(func=synth)
    a = p.parse_args()
    return a.func(a)


if __name__ == "__main__":
    sys.exit(main())
