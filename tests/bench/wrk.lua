-- The load of make bench: each wrk thread POSTs the bodies of its own file
-- (PREFIX.<thread>, one request per line) in order, each once, and checks
-- that every answer is a success that contains EXPECT. The same script
-- drives spn and its baselines, so both pay the same checking.
--   wrk -s wrk.lua URL -- PREFIX PATH EXPECT
-- done() prints one JSON line: requests, seconds, p50/p99 (µs), failures,
-- and how many requests had to repeat a body because the file ran out.

local threads, counter = {}, 0

function setup(thread)
	thread:set("id", counter)
	counter = counter + 1
	table.insert(threads, thread)
end

function init(args)
	local headers = { ["Content-Type"] = "application/json" }
	reqs, next_i, failed, repeated = {}, 0, 0, 0
	expect = args[3]
	for line in io.lines(args[1] .. "." .. id) do
		reqs[#reqs + 1] = wrk.format("POST", args[2], headers, line)
	end
end

function request()
	next_i = next_i + 1
	if next_i > #reqs then
		repeated = repeated + 1
		next_i = 1
	end
	return reqs[next_i]
end

function response(status, headers, body)
	if status < 200 or status > 299 or not string.find(body, expect, 1, true) then
		failed = failed + 1
		if failed == 1 then
			io.stderr:write("first failure: " .. status .. " " .. string.sub(body, 1, 600) .. "\n")
		end
	end
end

function done(summary, latency, requests)
	local failed, repeated = 0, 0
	for _, t in ipairs(threads) do
		failed = failed + t:get("failed")
		repeated = repeated + t:get("repeated")
	end
	local e = summary.errors
	io.write(string.format('{"requests":%d,"seconds":%.3f,"p50_us":%d,"p99_us":%d,"failed":%d,' ..
		'"socket_errors":%d,"repeated":%d}\n', summary.requests, summary.duration / 1e6,
		latency:percentile(50.0), latency:percentile(99.0), failed,
		e.connect + e.read + e.write + e.timeout, repeated))
end
