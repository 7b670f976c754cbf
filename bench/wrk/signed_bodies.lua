-- wrk script: POSTs pre-signed webhook bodies, each once, in order (a file of "<signature>\t<body>" lines,
-- given after `--`), and counts the answers by what they say. One thread (-t1): the bodies are not split.
local requests = {}
local next_index = 0
played, duplicate, other, wrapped, first_other = 0, 0, 0, 0, nil  -- globals: done() reads them with thread:get
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    local sig, body = line:match("^([^\t]+)\t(.*)$")
    requests[#requests + 1] = wrk.format("POST", args[2] or "/api/tavus-webhook",
      {["Content-Type"] = "application/json", ["X-Tavus-Signature"] = sig}, body)
  end
end

function request()
  next_index = next_index + 1
  if next_index > #requests then
    next_index = 1
    wrapped = wrapped + 1
  end
  return requests[next_index]
end

function response(status, headers, body)
  if status == 200 and body:find('"status":"played"', 1, true) then
    played = played + 1
  elseif status == 200 and body:find('"status":"duplicate"', 1, true) then
    duplicate = duplicate + 1
  elseif status == 200 and body:find('"ok":true', 1, true) then
    played = played + 1 -- the bare baseline's answer
  else
    other = other + 1
    if other == 1 then first_other = status .. " " .. body:sub(1, 300) end
  end
end

function done(summary, latency, requests_)
  local p, d, o, w = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    if t:get("first_other") then io.write("FIRST_OTHER " .. t:get("first_other") .. "\n") end
    p = p + t:get("played"); d = d + t:get("duplicate"); o = o + t:get("other"); w = w + t:get("wrapped")
  end
  io.write(string.format('RESULT {"played":%d,"duplicate":%d,"other":%d,"wrapped":%d,"errors":%d}\n',
    p, d, o, w, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status
    + summary.errors.timeout))
end
