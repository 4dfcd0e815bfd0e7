-- wrk script for the Wharf benchmarks.
-- Optional request headers from the environment:
--   BENCH_ACCEPT         -> Accept
--   BENCH_IF_NONE_MATCH  -> If-None-Match
-- At the end prints one machine-readable line:
--   RESULT requests=N duration_s=S rps=R p50_ms=A p90_ms=B p99_ms=C max_ms=D
--          bytes=N non2xx3xx=N err_connect=N err_read=N err_write=N err_timeout=N

local accept = os.getenv("BENCH_ACCEPT")
local inm = os.getenv("BENCH_IF_NONE_MATCH")
if accept and accept ~= "" then wrk.headers["Accept"] = accept end
if inm and inm ~= "" then wrk.headers["If-None-Match"] = inm end

done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f bytes=%d non2xx3xx=%d err_connect=%d err_read=%d err_write=%d err_timeout=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    summary.bytes, e.status, e.connect, e.read, e.write, e.timeout))
end
