-- Report-form POSTs, each from a different made-up patient (so neither the per-email rate
-- limit nor the double-click guard turns them away), sent as a same-origin browser would.
-- Usage: wrk ... -s post_report.lua URL -- <origin> <run tag>
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  origin = args[1]
  tag = args[2]
  counter = 0
  statuses = {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Origin"] = origin
  wrk.headers["Sec-Fetch-Site"] = "same-origin"
end

function request()
  counter = counter + 1
  local who = tag .. "-" .. id .. "-" .. counter
  local body = "report-name=Bench+Patient+" .. who ..
    "&report-email=bench-" .. who .. "%40example.com&report-consent=on"
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counts) do
    parts[#parts + 1] = string.format('"%d": %d', status, n)
  end
  io.write('BENCH_STATUS {' .. table.concat(parts, ", ") .. '}\n')
  bench_summary(summary, latency)
end
