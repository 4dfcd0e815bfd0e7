# Shared helpers for the bench/ scripts. Source it; don't run it.
# shellcheck shell=bash

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
OUT="${BENCH_OUT:-$BENCH_DIR/out}"
WHARF="${WHARF_BIN:-$ROOT/target/release/wharf}"
BENCH_VENV="$OUT/venv"
mkdir -p "$OUT" "$OUT/tmp"

# wrk settings; each run is bounded at 10 s whatever is asked.
WRK_THREADS="${BENCH_WRK_THREADS:-2}"
WRK_CONNECTIONS="${BENCH_WRK_CONNECTIONS:-64}"
WRK_SECONDS="${BENCH_WRK_SECONDS:-10}"
if [ "$WRK_SECONDS" -gt 10 ]; then WRK_SECONDS=10; fi

# PIDs of the servers this script started; stopped (by PID only) on exit.
STARTED_PIDS=()
BENCH_FAILURES=0

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() { log "FAIL: $*"; BENCH_FAILURES=$((BENCH_FAILURES + 1)); }
die() { log "ERROR: $*"; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

stop_pid() {
  local pid="$1"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  wait "$pid" 2>/dev/null || true
  local keep=() p
  for p in "${STARTED_PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  STARTED_PIDS=("${keep[@]}")
}

cleanup_started() {
  local p
  for p in "${STARTED_PIDS[@]}"; do stop_pid "$p"; done
}
trap cleanup_started EXIT

require_tools() {
  [ -x "$WHARF" ] || die "$WHARF is missing: run bench/setup"
  command -v wrk >/dev/null || die "wrk is missing: run bench/setup"
  command -v curl >/dev/null || die "curl is missing"
}

# wait_http URL [timeout_s]: until URL answers 200.
wait_http() {
  local url="$1" timeout="${2:-30}" i
  for i in $(seq $((timeout * 20))); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$url" 2>/dev/null)" = 200 ]; then return 0; fi
    sleep 0.05
  done
  return 1
}

# start_wharf DATA_DIR PORT LOG [CONFIG_FILE]: sets WHARF_PID.
start_wharf() {
  local data="$1" port="$2" logf="$3" conf=()
  if [ -n "${4:-}" ]; then conf=(--config "$4"); fi
  # The corpus is uploaded with one token, and wrk sends everything from one
  # address: lift the per-token upload limit, the per-IP global limit and
  # the per-client connection cap.
  WHARF_RATE_LIMIT_UPLOAD="${WHARF_RATE_LIMIT_UPLOAD:-100000/min}" WHARF_RATE_LIMIT_GLOBAL="${WHARF_RATE_LIMIT_GLOBAL:-1000000/s}" WHARF_CONNECTIONS_MAX_PER_CLIENT="${WHARF_CONNECTIONS_MAX_PER_CLIENT:-100000}" WHARF_LOG="${WHARF_LOG:-warn}" "$WHARF" "${conf[@]}" --data-dir "$data" serve --listen "127.0.0.1:$port" 2>>"$logf" &
  WHARF_PID=$!
  STARTED_PIDS+=("$WHARF_PID")
  wait_http "http://127.0.0.1:$port/healthz" 60 || die "wharf did not come up on port $port (see $logf)"
}

# make_token DATA_DIR: creates user 'bench' and prints a read,publish token.
make_token() {
  local data="$1"
  WHARF_LOG=warn "$WHARF" --data-dir "$data" admin user create bench >/dev/null 2>&1 || true
  WHARF_LOG=warn "$WHARF" --data-dir "$data" admin token create --user bench --scope read,publish --name bench 2>>"$OUT/admin.log"
}

# proc_kib PID FIELD: VmRSS / VmHWM in KiB.
proc_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

kib_to_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

test_venv() { "$ROOT/scripts/test-venv"; }

# Describes the code under test, for the result files.
code_version() {
  local rev dirty=""
  rev="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if [ -n "$(git -C "$ROOT" status --porcelain -- crates Cargo.toml Cargo.lock 2>/dev/null)" ]; then
    dirty=" (+ uncommitted changes in crates/)"
  fi
  echo "commit $rev$dirty, binary built $(date -r "$WHARF" '+%F %T' 2>/dev/null || echo '?')"
}

# run_wrk LABEL URL [ACCEPT] [IF_NONE_MATCH]
# Runs one bounded wrk load; appends "LABEL rps p50 p99 bytes_per_s status" to
# $WRK_RESULTS; counts a failure on any non-2xx/3xx response or socket error.
run_wrk() {
  local label="$1" url="$2" accept="${3:-}" inm="${4:-}"
  local file="$OUT/wrk-$(printf %s "$label" | tr -c 'A-Za-z0-9_.-' '_').txt"
  log "wrk $label: $url (-t$WRK_THREADS -c$WRK_CONNECTIONS -d${WRK_SECONDS}s)"
  BENCH_ACCEPT="$accept" BENCH_IF_NONE_MATCH="$inm" \
    timeout $((WRK_SECONDS + 20)) wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${WRK_SECONDS}s" \
    --latency -s "$BENCH_DIR/wrk-report.lua" "$url" >"$file" 2>&1 || { fail "wrk $label exited non-zero (see $file)"; }
  local line status=ok
  line="$(grep '^RESULT ' "$file" || true)"
  if [ -z "$line" ]; then
    fail "wrk $label printed no result (see $file)"
    echo -e "$label\t-\t-\t-\t-\tFAIL" >>"$WRK_RESULTS"
    return
  fi
  local -A r=()
  local kv
  for kv in ${line#RESULT }; do r["${kv%%=*}"]="${kv#*=}"; done
  if grep -q 'Non-2xx or 3xx responses' "$file" || [ "${r[non2xx3xx]}" != 0 ]; then
    fail "wrk $label: ${r[non2xx3xx]} non-2xx/3xx responses (see $file)"
    status=FAIL-non2xx
  fi
  local errs=$((r[err_connect] + r[err_read] + r[err_write] + r[err_timeout]))
  if [ "$errs" != 0 ] || grep -q 'Socket errors' "$file"; then
    fail "wrk $label: socket errors (connect ${r[err_connect]} read ${r[err_read]} write ${r[err_write]} timeout ${r[err_timeout]}; see $file)"
    status="${status/ok/}FAIL-socket"
  fi
  if [ "${r[requests]}" -lt 100 ]; then
    fail "wrk $label: only ${r[requests]} requests in ${r[duration_s]} s"
    status="${status/ok/}FAIL-few"
  fi
  local bps
  bps="$(awk -v b="${r[bytes]}" -v d="${r[duration_s]}" 'BEGIN { printf "%.1f", b / d / 1048576 }')"
  echo -e "$label\t${r[rps]}\t${r[p50_ms]}\t${r[p99_ms]}\t$bps\t$status" >>"$WRK_RESULTS"
  log "  -> ${r[rps]} req/s, p50 ${r[p50_ms]} ms, p99 ${r[p99_ms]} ms, $bps MiB/s, $status"
  sleep 1
}

# ensure_guarddog VENV SPEC LOG: creates VENV with SPEC from the package index
# pip is configured for, unless it already holds exactly SPEC. Returns non-zero
# (with pip's output in LOG) when the install fails.
ensure_guarddog() {
  local venv="$1" spec="$2" logf="$3" stamp="$1/.bench-requirements"
  if [ -x "$venv/bin/guarddog" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$spec" ]; then return 0; fi
  log "creating $venv with $spec"
  { python3 -m venv "$venv" &&
    "$venv/bin/python" -m pip install --quiet --upgrade pip &&
    "$venv/bin/python" -m pip install --quiet "$spec"; } >"$logf" 2>&1 || return 1
  echo "$spec" >"$stamp"
}
