-- One wrk script for both peers of bench/peer.py, so that both see the same load:
--   wrk -s bench/peer.lua URL -- clusterd|etcd get|put KEYS [BEARER-TOKEN] [PATH-PREFIX]
-- Each request takes the next of KEYS keys in turn (with 64 connections, 64 keys: concurrent
-- puts are to different keys, as one client per key would send them); a put writes a new value.

local peer, op, keys, token, prefix
local counter = 0

local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

-- etcd's JSON gateway takes keys and values in base64.
local function base64(text)
  local out = {}
  for i = 1, #text, 3 do
    local a, b, c = text:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    for j = 3, 0, -1 do
      local index = math.floor(n / 64 ^ j) % 64 + 1
      out[#out + 1] = alphabet:sub(index, index)
    end
    if not c then out[#out] = "=" end
    if not b then out[#out - 1] = "=" end
  end
  return table.concat(out)
end

function init(args)
  peer, op, keys = args[1], args[2], tonumber(args[3])
  token, prefix = args[4], args[5] or ""
end

function request()
  counter = counter + 1
  local key = "user:/bench/peer/k" .. (counter % keys)
  local value = "v" .. counter
  if peer == "etcd" then
    local body
    if op == "get" then
      body = '{"key":"' .. base64(key) .. '"}'
      return wrk.format("POST", "/v3/kv/range", nil, body)
    end
    body = '{"key":"' .. base64(key) .. '","value":"' .. base64(value) .. '"}'
    return wrk.format("POST", "/v3/kv/put", nil, body)
  end
  local headers = { ["Authorization"] = "Bearer " .. token }
  local path = prefix .. "/kdb/" .. key
  if op == "get" then
    return wrk.format("GET", path, headers, nil)
  end
  headers["Content-Type"] = "application/json"
  return wrk.format("PUT", path, headers, '"' .. value .. '"')
end

-- wrk counts only socket errors and statuses >= 400 as errors; any other status is a
-- failure here too.
function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
    wrk.thread:stop()
  end
end
