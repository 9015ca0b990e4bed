-- wrk script: POST one GraphQL request (BODY) with a bearer token (TOKEN), both from the
-- environment (an empty or unset TOKEN sends no Authorization header). Errors counts non-200
-- answers, socket errors and answers with GraphQL errors, so a broken run cannot pass for a
-- fast one.
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("TOKEN")
if token ~= nil and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

-- DELAY_MS (optional): each connection waits that long before each request, for a paced load
-- below saturation (about CONNECTIONS / (DELAY_MS + latency) requests per second).
local pause = tonumber(os.getenv("DELAY_MS") or "")
if pause then
  function delay()
    return pause
  end
end

-- Each wrk thread has its own Lua state: `bad` is per thread, summed in done().
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

bad = 0
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local graphql = 0
  for _, thread in ipairs(threads) do
    graphql = graphql + (thread:get("bad") or 0)
  end
  io.write(string.format("  requests %d, %.0f/s, p50 %.2f ms, p99 %.2f ms, errors %d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    graphql + summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout))
end
