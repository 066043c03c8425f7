-- POST /api/v1/orders/{id}/actions/{action}: dispatch, accept and tech_accept, each on its own order
-- with the version read before the run, as the responsible person's token. Args: FILE NTHREADS.
-- Past the end of the list the requests repeat and answer 409; the runner counts only 2xx.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
require "common"

local counter = 0

function init(args)
  lines = load_lines(args[1])
  nthreads = tonumber(args[2] or "2")
end

function request()
  local item = lines[(counter * nthreads + tid) % #lines + 1]
  counter = counter + 1
  return wrk.format("POST", item.path, {
    ["Authorization"] = "Bearer " .. item.token,
    ["Content-Type"] = "application/json",
  }, item.body)
end
