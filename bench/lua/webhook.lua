-- POST pre-signed Stripe events to /stripe/webhook, a different event each request.
-- Each line of $BENCH_WEBHOOK_FILE is "Stripe-Signature<TAB>JSON body" (see bench/webhooks.py).
local thread_count = 0

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  events = {}
  for line in io.lines(os.getenv("BENCH_WEBHOOK_FILE")) do
    local tab = line:find("\t", 1, true)
    events[#events + 1] = { line:sub(1, tab - 1), line:sub(tab + 1) }
  end
  -- Threads take every n-th event from their own offset, so no two send the same one.
  step = tonumber(os.getenv("BENCH_WRK_THREADS") or "2")
  index = tonumber(wrk.thread:get("id")) + 1
end

function request()
  local event = events[index]
  index = index + step
  if index > #events then index = index - #events end
  return wrk.format("POST", "/stripe/webhook", {
    ["Content-Type"] = "application/json",
    ["Stripe-Signature"] = event[1],
  }, event[2])
end
