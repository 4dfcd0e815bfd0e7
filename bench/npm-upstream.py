#!/usr/bin/env python3
"""A stand-in upstream npm registry for bench/npm (standard library only).

serve: serves every npm tarball (*.tgz) found in the given directories as an
npm registry, on 127.0.0.1 only. Each packument is built once at start-up
from the tarballs' package/package.json:

  GET /{name}                       the packument. With
                                    `Accept: application/vnd.npm.install-v1+json`
                                    the abbreviated one (name, modified,
                                    dist-tags, the install fields of each
                                    version); otherwise the full one, with a
                                    `time` map. Every time is 2020-01-01, far
                                    older than any release cooldown. ETag, and
                                    304 on If-None-Match. 404 ({"error": ...})
                                    for a name it does not have.
  GET /{name}/{version|tag}         one version's document
  GET /{name}/-/{base}-{version}.tgz  the tarball, streamed in 1 MiB chunks
  GET /-/ping                       {}
  GET /-/stats                      request counters as JSON (no latency added,
                                    not counted); /-/stats?reset=1 zeroes them

Scoped names are accepted as `@scope/name`, `@scope%2fname` and
`%40scope%2fname`. Every version's `dist` has `tarball` (absolute, on this
server, in the public registry's shape `/{name}/-/{base}-{version}.tgz`),
`integrity` (`sha512-<base64>`), `shasum` (SHA-1, hex), `fileCount` and
`unpackedSize`; `dist-tags.latest` is the highest release version.

--latency-ms N sleeps N ms before answering each request, as a far-away
registry would. On SIGTERM or SIGINT the counters go to stderr as one line,
"UPSTREAM-STATS {json}".

fetch: resolves ROOT_SPEC's dependency tree with the npm client against the
registry npm is configured for (`npm install --package-lock-only
--ignore-scripts` in a scratch directory), then `npm pack`s every resolved
package@version into OUTDIR and checks each tarball's integrity against the
lockfile. Writes OUTDIR/tree.json (the resolved packages, in lockfile order)
and OUTDIR/package-lock.json. Nothing else is downloaded.

  npm-upstream.py fetch OUTDIR ROOT_SPEC

check: reads a project's package-lock.json after an install and checks it
against tree.json: the same packages at the same versions and integrities,
every one present in node_modules with its package.json, as many package
directories in node_modules (counted on disk) as tree.json has, and every
`resolved` URL under REGISTRY (so the tarballs came from the server under
test, not from somewhere it pointed at). Prints "CHECK packages=N
on_disk=N ok" or the problems, and exits 1 on any.

  npm-upstream.py check PROJECT_DIR TREE_JSON REGISTRY_URL
"""

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

ABBREVIATED = "application/vnd.npm.install-v1+json"
OLD_TIME = "2020-01-01T00:00:00.000Z"
CHUNK = 1024 * 1024

# The fields of a version that an abbreviated packument keeps (npm's
# "corgi" documents), besides name, version and dist.
ABBREVIATED_FIELDS = (
    "deprecated",
    "dependencies",
    "optionalDependencies",
    "devDependencies",
    "bundleDependencies",
    "bundledDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
    "acceptDependencies",
    "bin",
    "directories",
    "engines",
    "cpu",
    "os",
    "libc",
    "funding",
    "license",
    "_hasShrinkwrap",
    "hasInstallScript",
)
INSTALL_SCRIPTS = ("preinstall", "install", "postinstall")


# ---- versions ---------------------------------------------------------------
SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def version_key(v: str):
    """Sort key in semver order (releases above their prereleases)."""
    m = SEMVER.match(v)
    if not m:
        return (0, 0, 0, 0, ())
    pre = m.group(4)
    pre_key = ()
    if pre:
        pre_key = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), 0 if pre else 1, pre_key)


def latest_of(versions):
    releases = [v for v in versions if SEMVER.match(v) and not SEMVER.match(v).group(4)]
    return max(releases or versions, key=version_key)


# ---- the registry's contents --------------------------------------------------
def read_tarball(path: str):
    """(package.json as a dict, file count, unpacked size) of an npm tarball.

    npm tarballs keep everything under one top directory, usually `package/`
    (a few old ones use another name): the manifest is that directory's
    package.json."""
    with tarfile.open(path, "r:gz") as tf:
        manifest = None
        files = 0
        size = 0
        for member in tf:
            if not member.isfile():
                continue
            files += 1
            size += member.size
            parts = member.name.lstrip("./").split("/")
            if manifest is None and len(parts) == 2 and parts[1] == "package.json":
                manifest = json.load(tf.extractfile(member))
    if manifest is None:
        raise ValueError(f"{path}: no package.json at the top of the tarball")
    return manifest, files, size


def base_name(name: str) -> str:
    return name.split("/")[-1]


class Registry:
    """Everything served, computed once."""

    def __init__(self, dirs, base_url):
        self.tarballs = {}  # (name, filename) -> path
        manifests = {}  # name -> {version: manifest}
        for d in dirs:
            for filename in sorted(os.listdir(d)):
                path = os.path.join(d, filename)
                if not filename.endswith(".tgz") or not os.path.isfile(path):
                    continue
                pkg, files, unpacked = read_tarball(path)
                name, version = pkg["name"], pkg["version"]
                data = open(path, "rb").read()
                served_as = f"{base_name(name)}-{version}.tgz"
                manifest = {k: v for k, v in pkg.items() if k not in ("readme", "readmeFilename")}
                manifest["_id"] = f"{name}@{version}"
                scripts = pkg.get("scripts") or {}
                if any(s in scripts for s in INSTALL_SCRIPTS):
                    manifest["hasInstallScript"] = True
                manifest["dist"] = {
                    "tarball": f"{base_url}/{name}/-/{quote(served_as)}",
                    "integrity": "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode(),
                    "shasum": hashlib.sha1(data).hexdigest(),
                    "fileCount": files,
                    "unpackedSize": unpacked,
                }
                manifests.setdefault(name, {})[version] = manifest
                self.tarballs[(name, served_as)] = path
        self.versions = manifests
        self.tags = {}
        self.docs = {}  # (name, abbreviated) -> (body, etag)
        for name, versions in manifests.items():
            ordered = sorted(versions, key=version_key)
            tags = {"latest": latest_of(ordered)}
            self.tags[name] = tags
            latest = versions[tags["latest"]]
            full = {
                "_id": name,
                "name": name,
                "description": latest.get("description", ""),
                "dist-tags": tags,
                "versions": {v: versions[v] for v in ordered},
                "time": {"created": OLD_TIME, "modified": OLD_TIME, **{v: OLD_TIME for v in ordered}},
                "license": latest.get("license"),
                "readme": "",
            }
            abbreviated = {
                "name": name,
                "modified": OLD_TIME,
                "dist-tags": tags,
                "versions": {
                    v: {
                        "name": name,
                        "version": v,
                        **{k: versions[v][k] for k in ABBREVIATED_FIELDS if k in versions[v]},
                        "dist": versions[v]["dist"],
                    }
                    for v in ordered
                },
            }
            self.docs[(name, False)] = self._doc(full)
            self.docs[(name, True)] = self._doc(abbreviated)

    @staticmethod
    def _doc(doc):
        body = json.dumps(doc, separators=(",", ":")).encode()
        return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


# ---- counters -------------------------------------------------------------------
class Stats:
    KINDS = (
        "packuments_full",
        "packuments_abbreviated",
        "packuments_304",
        "versions",
        "tarballs",
        "not_found",
        "bytes_sent",
    )

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
        counts["packuments"] = counts["packuments_full"] + counts["packuments_abbreviated"]
        counts["requests"] = (
            counts["packuments"] + counts["packuments_304"] + counts["versions"] + counts["tarballs"] + counts["not_found"]
        )
        return counts


def split_path(path: str):
    """(name, rest) of a decoded registry path, or None. `/@s/n/-/f.tgz` ->
    ("@s/n", ["-", "f.tgz"])."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        return None
    if parts[0].startswith("@"):
        if len(parts) < 2:
            return None
        return f"{parts[0]}/{parts[1]}", parts[2:]
    return parts[0], parts[1:]


def etag_matches(header, etag) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    tags = [t.strip() for t in header.split(",")]
    return any((t[2:] if t.startswith("W/") else t) == etag for t in tags)


def make_handler(registry: Registry, stats: Stats, latency_s: float):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "bench-npm-upstream/1"
        # Headers and body go out in two writes: with Nagle's algorithm on,
        # the body of a small answer waits for the client's delayed ACK of
        # the headers, ~40 ms per request on a keep-alive connection.
        disable_nagle_algorithm = True

        def log_message(self, *args):  # quiet: the counters tell what happened
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

        def _json(self, status, doc):
            self._send(status, json.dumps(doc).encode(), [("Content-Type", "application/json")])

        def _not_found(self):
            stats.add("not_found")
            self._json(404, {"error": "Not found"})

        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            url = urlsplit(self.path)
            # Decoding first makes `@scope%2fname` and `%40scope%2fname` read
            # as `@scope/name`; no package name or tarball file name has a
            # literal `%` in it.
            path = unquote(url.path)
            if path == "/-/stats":
                if "reset" in parse_qs(url.query):
                    stats.reset()
                body = json.dumps(stats.snapshot()).encode()
                return self._send(200, body, [("Content-Type", "application/json")])
            if latency_s:
                time.sleep(latency_s)
            if path == "/-/ping":
                return self._json(200, {})
            parsed = split_path(path)
            if parsed is None or parsed[0].startswith("-"):
                return self._not_found()
            name, rest = parsed
            if name not in registry.versions:
                return self._not_found()
            if not rest:
                return self._packument(name)
            if len(rest) == 1:
                return self._version(name, rest[0])
            if len(rest) == 2 and rest[0] == "-":
                return self._tarball(name, rest[1])
            return self._not_found()

        def _packument(self, name):
            is_abbreviated = ABBREVIATED in (self.headers.get("Accept") or "")
            body, etag = registry.docs[(name, is_abbreviated)]
            ctype = ABBREVIATED if is_abbreviated else "application/json"
            headers = [
                ("Content-Type", ctype),
                ("ETag", etag),
                ("Vary", "Accept"),
                ("Cache-Control", "public, max-age=300"),
                ("Last-Modified", "Wed, 01 Jan 2020 00:00:00 GMT"),
            ]
            if etag_matches(self.headers.get("If-None-Match"), etag):
                stats.add("packuments_304")
                return self._send(304, b"", headers)
            stats.add("packuments_abbreviated" if is_abbreviated else "packuments_full")
            self._send(200, body, headers)

        def _version(self, name, wanted):
            version = registry.tags[name].get(wanted, wanted)
            manifest = registry.versions[name].get(version)
            if manifest is None:
                return self._not_found()
            stats.add("versions")
            self._json(200, manifest)

        def _tarball(self, name, filename):
            path = registry.tarballs.get((name, filename))
            if path is None:
                return self._not_found()
            stats.add("tarballs")
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
    registry = Registry(a.dir, base_url)
    stats = Stats()

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256
        allow_reuse_address = True

    server = Server(("127.0.0.1", a.port), make_handler(registry, stats, a.latency_ms / 1000))

    def stop(signum, frame):
        print("UPSTREAM-STATS " + json.dumps(stats.snapshot()), file=sys.stderr, flush=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(
        f"npm upstream: {len(registry.tarballs)} tarballs of {len(registry.versions)} packages at {base_url}/, "
        f"latency {a.latency_ms} ms, ready in {time.monotonic() - started:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    server.serve_forever()
    return 0


# ---- fetch: the fixture, once ---------------------------------------------------
def lock_packages(lock):
    """[(lockfile path, name, version, integrity)] of a package-lock.json (v2/v3)."""
    out = []
    for key, entry in lock.get("packages", {}).items():
        if not key or entry.get("link"):
            continue
        name = entry.get("name") or key.split("node_modules/")[-1]
        out.append((key, name, entry["version"], entry.get("integrity")))
    return out


def npm(args, cwd, cache):
    cmd = ["npm", *args, "--cache", cache, "--no-audit", "--no-fund", "--no-update-notifier"]
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def fetch(a) -> int:
    out = os.path.abspath(a.outdir)
    scratch = os.path.join(out, ".resolve")
    cache = os.path.join(out, ".npm-cache")
    os.makedirs(scratch, exist_ok=True)
    with open(os.path.join(scratch, "package.json"), "w") as f:
        json.dump({"name": "npm-bench-resolve", "version": "1.0.0", "private": True}, f)
    npm(["install", "--package-lock-only", "--ignore-scripts", a.root], scratch, cache)
    with open(os.path.join(scratch, "package-lock.json")) as f:
        lock = json.load(f)
    packages = lock_packages(lock)
    wanted = {}
    for _, name, version, integrity in packages:
        wanted[(name, version)] = integrity
    specs = sorted(f"{n}@{v}" for n, v in wanted)
    packed = []
    for i in range(0, len(specs), 25):
        stdout = npm(["pack", "--json", "--pack-destination", out, *specs[i : i + 25]], scratch, cache)
        packed.extend(json.loads(stdout))
    problems = []
    for p in packed:
        expected = wanted.get((p["name"], p["version"]))
        path = os.path.join(out, p["filename"])
        data = open(path, "rb").read()
        actual = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
        if expected and expected != actual:
            problems.append(f"{p['name']}@{p['version']}: lockfile {expected}, packed {actual}")
    if len(packed) != len(wanted):
        problems.append(f"packed {len(packed)} tarballs for {len(wanted)} packages")
    if problems:
        sys.exit("fetch: " + "; ".join(problems))
    root_key = next(k for k in lock["packages"][""].get("dependencies", {}))
    tree = {
        "root": a.root,
        "root_name": root_key,
        "root_version": lock["packages"][f"node_modules/{root_key}"]["version"],
        "count": len(packages),
        "scoped": sum(1 for _, n, _, _ in packages if n.startswith("@")),
        "packages": [
            {"path": k, "name": n, "version": v, "integrity": i} for k, n, v, i in packages
        ],
        "tarball_bytes": sum(os.path.getsize(os.path.join(out, p["filename"])) for p in packed),
    }
    with open(os.path.join(out, "tree.json"), "w") as f:
        json.dump(tree, f, indent=1)
    os.replace(os.path.join(scratch, "package-lock.json"), os.path.join(out, "package-lock.json"))
    # npm's cache holds a second copy of every tarball: not needed any more.
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(scratch, ignore_errors=True)
    print(
        f"{tree['root_name']}@{tree['root_version']}: {tree['count']} packages, "
        f"{len(packed)} tarballs, {tree['tarball_bytes']} bytes"
    )
    return 0


# ---- check: an install's result --------------------------------------------------
def check(a) -> int:
    tree = json.load(open(a.tree))
    lock_path = os.path.join(a.project, "package-lock.json")
    try:
        lock = json.load(open(lock_path))
    except (OSError, ValueError) as e:
        print(f"CHECK no usable package-lock.json: {e}")
        return 1
    expected = {p["path"]: p for p in tree["packages"]}
    problems = []
    seen = 0
    for key, entry in lock.get("packages", {}).items():
        if not key:
            continue
        seen += 1
        want = expected.get(key)
        if want is None:
            problems.append(f"unexpected {key}")
            continue
        if entry.get("version") != want["version"]:
            problems.append(f"{key}: version {entry.get('version')}, expected {want['version']}")
        if want["integrity"] and entry.get("integrity") != want["integrity"]:
            problems.append(f"{key}: integrity differs")
        if not (entry.get("resolved") or "").startswith(a.registry):
            problems.append(f"{key}: resolved {entry.get('resolved')}, not under {a.registry}")
        if not os.path.isfile(os.path.join(a.project, key, "package.json")):
            problems.append(f"{key}: not installed")
    missing = sorted(set(expected) - {k for k in lock.get("packages", {}) if k})
    problems.extend(f"missing {k}" for k in missing)
    on_disk = count_installed(os.path.join(a.project, "node_modules"))
    if on_disk != tree["count"]:
        problems.append(f"{on_disk} packages in node_modules, expected {tree['count']}")
    if problems:
        print(
            f"CHECK packages={seen} on_disk={on_disk} expected={tree['count']} problems={len(problems)}: "
            + "; ".join(problems[:5])
        )
        return 1
    print(f"CHECK packages={seen} on_disk={on_disk} ok")
    return 0


def count_installed(node_modules: str) -> int:
    """Package directories (with a package.json) under node_modules, nested
    node_modules included, counted from the file system alone."""
    if not os.path.isdir(node_modules):
        return 0
    n = 0
    for entry in sorted(os.listdir(node_modules)):
        if entry.startswith("."):
            continue
        path = os.path.join(node_modules, entry)
        dirs = [os.path.join(path, s) for s in sorted(os.listdir(path))] if entry.startswith("@") else [path]
        for d in dirs:
            if os.path.isfile(os.path.join(d, "package.json")):
                n += 1 + count_installed(os.path.join(d, "node_modules"))
    return n


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--dir", action="append", required=True, help="a directory of npm tarballs (repeatable)")
    s.add_argument("--latency-ms", type=float, default=0.0)
    s.set_defaults(func=serve)
    f = sub.add_parser("fetch")
    f.add_argument("outdir")
    f.add_argument("root")
    f.set_defaults(func=fetch)
    c = sub.add_parser("check")
    c.add_argument("project")
    c.add_argument("tree")
    c.add_argument("registry")
    c.set_defaults(func=check)
    a = p.parse_args()
    return a.func(a)


if __name__ == "__main__":
    sys.exit(main())
