-- track-redirects.lua - wrk script for bench/track-redirects: GET the
-- tracking URLs listed in $PATHS (one path per line) round robin, count
-- the answers by class, print one JSON line at the end.
local paths = {}
for line in io.lines(os.getenv("PATHS")) do
  table.insert(paths, line)
end
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  n = id * 7919
  ok = 0
  bad = 0
end

function request()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1], {["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) bench"})
end

function response(status, headers, body)
  if status == 302 or status == 200 then ok = ok + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  local good, wrong = 0, 0
  for _, t in ipairs(threads) do
    good = good + t:get("ok")
    wrong = wrong + t:get("bad")
  end
  local secs = summary.duration / 1e6
  io.write(string.format(
    '{"requests":%d,"ok":%d,"other":%d,"errors":%d,"per_s":%.0f,"p50_ms":%.2f,"p90_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f}\n',
    summary.requests, good, wrong, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, good / secs, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
