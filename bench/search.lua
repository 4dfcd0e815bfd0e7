-- wrk script for bench/search: cycles through queries of one, two and
-- three words, then prints the same RESULT line as wrk-report.lua.
local queries = {
  "http", "json", "parser", "async", "toolkit", "crypto+library", "yaml+parser", "secure+http+client",
  "metrics", "fast-json-1234", "database+driver", "stream", "logger", "image+bindings", "queue+engine",
}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/api/v1/search?q=" .. queries[(i % #queries) + 1] .. "&limit=20")
end

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
