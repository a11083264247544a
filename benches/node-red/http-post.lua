-- wrk script of the HTTP comparison (http.sh beside this file): every request is the same
-- POST of a small text body to the URL given to wrk (/hello?name=Ada), and every response
-- is checked. At the end it prints one line, `wrk-result {...}` (JSON), with the counts and
-- the latency percentiles in microseconds.
--
--   wrk -t2 -c16 -d10s --latency -s http-post.lua 'http://127.0.0.1:PORT/hello?name=Ada' -- 'hi there'
--
-- The body is the first argument after `--` (default "hi there"), sent as text/plain.
-- Counted per thread and summed at the end:
--   non200    responses whose status is not 200 (the first one is kept: status and body)
--   mismatch  200 responses whose body differs from the first 200 body of that thread

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   wrk.method = "POST"
   wrk.body = args[1] or "hi there"
   wrk.headers["Content-Type"] = "text/plain"
   -- wrk builds the request once from these after init: requests stay static.
   responses = 0
   non200 = 0
   mismatch = 0
   first_body = nil
   first_bad = nil
end

function response(status, headers, body)
   responses = responses + 1
   if status ~= 200 then
      non200 = non200 + 1
      if first_bad == nil then
         first_bad = status .. " " .. string.sub(body or "", 1, 300)
      end
   elseif first_body == nil then
      first_body = body
   elseif body ~= first_body then
      mismatch = mismatch + 1
      if first_bad == nil then
         first_bad = "200 with a different body: " .. string.sub(body or "", 1, 300)
      end
   end
end

local function quote(s)
   s = string.gsub(s, '[%c"\\]', function(c)
      if c == '"' or c == "\\" then
         return "\\" .. c
      end
      return string.format("\\u%04x", string.byte(c))
   end)
   return '"' .. s .. '"'
end

function done(summary, latency, requests)
   local responses, non200, mismatch, first_bad, body = 0, 0, 0, nil, nil
   for _, thread in ipairs(threads) do
      responses = responses + thread:get("responses")
      non200 = non200 + thread:get("non200")
      mismatch = mismatch + thread:get("mismatch")
      first_bad = first_bad or thread:get("first_bad")
      body = body or thread:get("first_body")
   end
   local e = summary.errors
   io.write(string.format(
      'wrk-result {"requests":%d,"duration_us":%d,"bytes":%d,"responses":%d,"non200":%d,'
         .. '"mismatch":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
         .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},'
         .. '"first_bad":%s,"body":%s}\n',
      summary.requests, summary.duration, summary.bytes, responses, non200, mismatch,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      latency.mean,
      first_bad and quote(first_bad) or "null", body and quote(body) or "null"))
end
