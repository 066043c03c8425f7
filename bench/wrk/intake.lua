-- POST /api/v1/orders: a repair order for an existing customer and machine, a unique body and a
-- fresh Idempotency-Key per request (as a hotline client would send). Args: FILE RUN_ID NTHREADS.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
require "common"

local counter = 0

function init(args)
  lines = load_lines(args[1])
  run_id = args[2] or "0"
  nthreads = tonumber(args[3] or "2")
end

function request()
  counter = counter + 1
  local item = lines[(counter * nthreads + tid) % #lines + 1]
  return wrk.format("POST", item.path, {
    ["Authorization"] = "Bearer " .. item.token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "wrk-" .. run_id .. "-" .. tid .. "-" .. counter,
  }, item.body)
end
