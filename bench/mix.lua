-- A family workload for wrk: many families, 90 % reads (budget and expenses of the current
-- month), 10 % writes (a new expense). Counts X-Cache outcomes of the reads.
-- Families come from bench/families.txt: "cookie category_id month" per line.
local families = {}
for line in io.lines("bench/families.txt") do
  local cookie, category, month = line:match("(%S+) (%S+) (%S+)")
  families[#families + 1] = { cookie = cookie, category = category, month = month }
end

local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  threads[#threads + 1] = thread
end

hits, misses, other, writes = 0, 0, 0, 0
local seq = 0

function init(args)
  math.randomseed(os.time() + id)
end

function request()
  local f = families[math.random(#families)]
  -- As a browser asks: the session cookie and the codings every browser accepts.
  local headers = { ["Cookie"] = "hearth_session=" .. f.cookie, ["Accept-Encoding"] = "br, gzip" }
  seq = seq + 1
  if math.random() < 0.1 then
    headers["Content-Type"] = "application/json"
    local body = string.format('{"category_id":"%s","amount_minor":%d,"spent_on":"%s-01"}', f.category, math.random(100, 9999), f.month)
    return wrk.format("POST", "/api/expenses", headers, body)
  elseif seq % 2 == 0 then
    return wrk.format("GET", "/api/budgets?month=" .. f.month, headers)
  else
    return wrk.format("GET", "/api/expenses?month=" .. f.month, headers)
  end
end

function response(status, headers, body)
  local x = headers["x-cache"] or headers["X-Cache"]
  if x == "HIT" then hits = hits + 1
  elseif x == "MISS" then misses = misses + 1
  elseif status == 201 then writes = writes + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local h, m, o, w = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    h = h + t:get("hits"); m = m + t:get("misses"); o = o + t:get("other"); w = w + t:get("writes")
  end
  io.write(string.format("MIX reads=%d hits=%d misses=%d writes=%d other=%d hit_rate=%.4f\n",
    h + m, h, m, w, o, h / math.max(1, h + m)))
end
