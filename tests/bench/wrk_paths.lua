-- wrk script of tests/bench/bench_api.py: every request is a GET of the next URL path read from a
-- file (one a line), in the file's order; each of wrk's threads starts at its own share of the file
-- and cycles through all of it. done() prints one parseable line, latencies in milliseconds:
--
--   WRK_RESULT requests=N seconds=S rps=R p50_ms=.. p95_ms=.. p99_ms=.. max_ms=.. status_errors=N
--              connect_errors=N read_errors=N write_errors=N timeouts=N bytes=N
--
-- (status_errors counts the responses wrk reads as errors: status 400 or more.)
--
--   wrk -c 8 -t 2 -d 20s -s tests/bench/wrk_paths.lua http://127.0.0.1:PORT -- PATHS_FILE THREADS

local counter = 0

function setup(thread)
   thread:set("thread_number", counter)
   counter = counter + 1
end

function init(args)
   local paths = {}
   for line in io.lines(args[1]) do
      if #line > 0 then
         paths[#paths + 1] = wrk.format("GET", line)
      end
   end
   if #paths == 0 then
      error("no URL paths in " .. args[1])
   end
   requests_ = paths
   local threads = tonumber(args[2] or "1")
   index = math.floor(thread_number * #paths / threads)
end

function request()
   index = index % #requests_ + 1
   return requests_[index]
end

function done(summary, latency, requests)
   local errors = summary.errors
   local seconds = summary.duration / 1e6
   io.write(string.format(
      "WRK_RESULT requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p95_ms=%.3f p99_ms=%.3f max_ms=%.3f "
         .. "status_errors=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d bytes=%d\n",
      summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
      latency.max / 1000, errors.status, errors.connect, errors.read, errors.write, errors.timeout,
      summary.bytes))
end
