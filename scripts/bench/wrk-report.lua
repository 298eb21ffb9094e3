-- wrk script: requests the paths listed (one per line) in the file named by the first argument,
-- each in turn from a random first one (so a list of ids is cycled through: every id asked for as
-- often as the others), with the request headers given as further arguments ("name: value"), and
-- prints a JSON summary when done.
local paths = {}
local headers = {}
local last = 0

init = function(args)
  for line in io.lines(args[1]) do
    if line ~= "" then paths[#paths + 1] = line end
  end
  for i = 2, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    if name then headers[name] = value end
  end
  math.randomseed(os.time())
  last = math.random(#paths) - 1
end

request = function()
  last = last % #paths + 1
  return wrk.format("GET", paths[last], headers)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
