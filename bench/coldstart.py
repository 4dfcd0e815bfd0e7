#!/usr/bin/env python3
"""Time from exec of `wharf serve` to the first 200 from /healthz.

Usage: coldstart.py --wharf BIN --runs N (--fresh-parent DIR | --data-dir DIR)
                    [--idle-wait 1.0]

--fresh-parent: every run gets a new, not yet existing data dir under DIR.
--data-dir:     every run reuses this (already initialised) data dir.
Each run: note the time, exec the server on a free 127.0.0.1 port, poll
/healthz every 1 ms over raw sockets until it answers 200, then wait
--idle-wait seconds and read VmRSS, then SIGTERM the server (by its PID).
Prints one JSON object: {"startup_ms": [...], "idle_rss_kib": [...]}.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthz_ok(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            head = s.recv(64)
            return head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.0 200")
    except OSError:
        return False


def vmrss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--wharf", required=True)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--fresh-parent")
    p.add_argument("--data-dir")
    p.add_argument("--idle-wait", type=float, default=1.0)
    p.add_argument("--log", default=os.devnull)
    a = p.parse_args()
    env = dict(os.environ, WHARF_LOG="warn")
    startup, rss = [], []
    with open(a.log, "ab") as log:
        for _ in range(a.runs):
            if a.fresh_parent:
                data = os.path.join(tempfile.mkdtemp(dir=a.fresh_parent), "data")
            else:
                data = a.data_dir
            port = free_port()
            cmd = [a.wharf, "--data-dir", data, "serve", "--listen", f"127.0.0.1:{port}"]
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, env=env)
            try:
                deadline = t0 + 30
                while not healthz_ok(port):
                    if proc.poll() is not None:
                        sys.exit(f"wharf exited with {proc.returncode} before answering")
                    if time.perf_counter() > deadline:
                        sys.exit("wharf did not answer /healthz within 30 s")
                    time.sleep(0.001)
                startup.append((time.perf_counter() - t0) * 1000)
                time.sleep(a.idle_wait)
                rss.append(vmrss(proc.pid))
            finally:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    try:
                        proc.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
            if proc.returncode not in (0, -signal.SIGTERM):
                sys.exit(f"wharf exited with {proc.returncode} after SIGTERM")
    print(json.dumps({"startup_ms": startup, "idle_rss_kib": rss}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
