-- wrk script: each connection waits DELAY_MS milliseconds between its requests (an open-ish
-- load below the server's maximum, for the p99 at half load in bench/run.sh).
local pause = tonumber(os.getenv("DELAY_MS") or "1")
function delay()
  return pause
end
