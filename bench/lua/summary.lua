-- Prints wrk's own summary as one JSON line (prefixed BENCH_JSON) for bench/load.py to read.
-- Latencies are in microseconds, as wrk keeps them. bench/load.py puts this file before the
-- scenario's own script; a scenario without a done() gets the one at the end.
function bench_summary(summary, latency)
  local p = {}
  for _, q in ipairs({50, 90, 99, 99.9}) do
    p[#p + 1] = string.format('"%s": %d', tostring(q), latency:percentile(q))
  end
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"min": %d, "max": %d, "mean": %.1f, "stdev": %.1f, "percentiles": {%s}}}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout,
    latency.min, latency.max, latency.mean, latency.stdev, table.concat(p, ", ")))
end

function done(summary, latency, requests)
  bench_summary(summary, latency)
end
