-- Shared by the wrk scripts: each thread takes its own slice of a file of prepared requests
-- (one per line: path TAB token TAB json body), so no two connections send the same one.
-- done() prints one JSON line the runner parses: requests, non-2xx, errors, duration, p95.
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function load_lines(path)
  local lines = {}
  for line in io.lines(path) do
    local p, t, b = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    lines[#lines + 1] = {path = p, token = t, body = b}
  end
  return lines
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "non2xx": %d, "socket_errors": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
