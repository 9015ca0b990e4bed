-- wrk script: POST one GraphQL request (BODY) with a bearer token (TOKEN), both from the
-- environment; counts non-200 answers so a broken run cannot pass for a fast one.
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")

local bad = 0
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"') then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  io.write(string.format("  requests %d, %.0f/s, p50 %.2f ms, p99 %.2f ms, errors %d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout))
end
