-- wrk script of `nox -s bench`: spreads GETs or PUTs over the users the harness seeded.
-- Arguments after `--`: the method (GET or PUT) and the number of seeded users.
-- done() prints one JSON line, which the harness reads instead of scraping wrk's text report.

local thread_count = 0

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
end

local method = "GET"
local users = 1
local counter = 0

-- "Bench" followed by the index as three base-26 letters: tests/bench/seed.py makes the same names.
local function username(index)
  local letters = ""
  for _ = 1, 3 do
    letters = string.char(97 + index % 26) .. letters
    index = math.floor(index / 26)
  end
  return "Bench" .. letters
end

function init(args)
  method = args[1]
  users = tonumber(args[2])
  -- Threads start far apart so they do not walk the same users in step.
  counter = thread_index * 7919
  if method == "PUT" then
    wrk.headers["Content-Type"] = "application/json"
  end
end

-- A date that changes from one request to the next: rewriting a row with the value it already
-- holds leaves SQLite's page clean, which would hide the cost of a real write.
local function date_of_birth(n)
  return string.format('{"dateOfBirth": "%04d-%02d-%02d"}', 1950 + n % 50, 1 + n % 12, 1 + n % 28)
end

function request()
  counter = counter + 1
  local path = "/hello/" .. username(counter % users)
  if method == "PUT" then
    return wrk.format(method, path, nil, date_of_birth(counter))
  end
  return wrk.format(method, path)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
      .. '"non_2xx_3xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.status, errors.connect + errors.read + errors.write + errors.timeout
  ))
end
