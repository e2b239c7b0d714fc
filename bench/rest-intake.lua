-- rest-intake.lua - wrk script for bench/rest-intake: POST the JobRequest in
-- $BODY with $AUTH, count the 200 answers, print one JSON line at the end.
local f = assert(io.open(os.getenv("BODY"), "rb"))
local body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = os.getenv("AUTH")

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ok = 0
  bad = 0
end

function response(status, headers, resp)
  if status == 200 then ok = ok + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  local accepted, refused = 0, 0
  for _, t in ipairs(threads) do
    accepted = accepted + t:get("ok")
    refused = refused + t:get("bad")
  end
  local secs = summary.duration / 1e6
  io.write(string.format(
    '{"requests":%d,"accepted":%d,"refused":%d,"errors":%d,"seconds":%.2f,"accepted_per_s":%.1f,' ..
    '"p50_ms":%.2f,"p90_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f}\n',
    summary.requests, accepted, refused,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    secs, accepted / secs, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
