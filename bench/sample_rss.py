#!/usr/bin/env python3
"""Run a command while sampling another process's memory from /proc.

Usage: sample_rss.py --pid PID [--interval 0.02] --out SAMPLES.tsv -- CMD [ARG...]

Every INTERVAL seconds while CMD runs (and once more after it ends), reads
VmRSS of PID and appends "elapsed_s<TAB>rss_kib" to SAMPLES.tsv. On exit it
prints one line to stderr:
  SAMPLER samples=N peak_rss_kib=K hwm_kib=H final_rss_kib=F
and exits with CMD's exit status. CMD's stdout/stderr pass through.
"""

import argparse
import subprocess
import sys
import time


def status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--interval", type=float, default=0.02)
    p.add_argument("--out", required=True)
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    a = p.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    if not cmd:
        p.error("no command")
    peak = 0
    n = 0
    start = time.monotonic()
    with open(a.out, "w") as out:
        out.write("elapsed_s\trss_kib\n")

        def sample() -> None:
            nonlocal peak, n
            rss = status_kib(a.pid, "VmRSS")
            peak = max(peak, rss)
            n += 1
            out.write(f"{time.monotonic() - start:.3f}\t{rss}\n")

        sample()
        child = subprocess.Popen(cmd)
        next_t = time.monotonic()
        while child.poll() is None:
            sample()
            next_t += a.interval
            time.sleep(max(0.0, next_t - time.monotonic()))
        # The server may still be committing the upload after the client
        # returned; keep sampling a little longer.
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            sample()
            time.sleep(a.interval)
    hwm = status_kib(a.pid, "VmHWM")
    final = status_kib(a.pid, "VmRSS")
    print(
        f"SAMPLER samples={n} peak_rss_kib={peak} hwm_kib={hwm} final_rss_kib={final}",
        file=sys.stderr,
    )
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())
