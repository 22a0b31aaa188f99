package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// luaScript cycles through the bodies file. Threads start at different
// offsets; a line with \x01 separators gets a per-request counter (thread
// id and sequence number) joined in, so that cold requests never repeat.
// Bodies without separators are formatted once at init. With check set,
// response() counts answers that are not a clean decision. done() prints
// one JSON line that run() parses.
const luaScript = `
local bodies_file, host, path, auth, delay_ms, check = %q, %q, %q, %q, %d, %t
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
local reqs, parts, idx, seq = {}, {}, 0, 0
bad = 0
function init(args)
  local headers = {["Host"] = host, ["Content-Type"] = "application/json"}
  if auth ~= "" then headers["Authorization"] = "Bearer " .. auth end
  local sep = string.char(1)
  for l in io.lines(bodies_file) do
    if l:find(sep, 1, true) then
      local p = {}
      for s in (l .. sep):gmatch("(.-)" .. sep) do p[#p + 1] = s end
      parts[#parts + 1] = p
      reqs[#reqs + 1] = false
    else
      parts[#parts + 1] = false
      reqs[#reqs + 1] = wrk.format("POST", path, headers, l)
    end
  end
  idx = (tid * 7919) %% #reqs
  wrk.headers = headers
  math.randomseed(os.time() * 1000 + tid)
end
function request()
  idx = idx %% #reqs + 1
  local r = reqs[idx]
  if r then return r end
  seq = seq + 1
  return wrk.format("POST", path, nil, table.concat(parts[idx], tid .. "x" .. seq))
end
if delay_ms > 0 then
  -- Exponentially distributed pauses with mean delay_ms (seeded per
  -- thread in init): arrivals are
  -- close to a Poisson process instead of every connection firing in
  -- lockstep, which would measure how long a burst takes to drain.
  function delay() return math.floor(-math.log(1 - math.random()) * delay_ms + 0.5) end
end
if check then
  function response(status, headers, body)
    if status ~= 200 or not body:find('"decision"', 1, true) or body:find("no policy is active", 1, true)
      or body:find("policy evaluation failed", 1, true) or body:find("audit_unavailable", 1, true) then
      bad = bad + 1
    end
  end
end
function done(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do b = b + (t:get("bad") or 0) end
  local e = summary.errors
  io.write(string.format('BENCHJSON {"requests":%%d,"duration_us":%%d,"p50_us":%%f,"p99_us":%%f,"p999_us":%%f,' ..
    '"connect":%%d,"read":%%d,"write":%%d,"status":%%d,"timeout":%%d,"bad":%%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    e.connect, e.read, e.write, e.status, e.timeout, b))
end
`

// load is one wrk run's parameters.
type load struct {
	url, path, auth string
	bodies          string // file, one body per line
	connections     int
	threads         int
	duration        time.Duration
	delay           time.Duration // per connection between requests; 0 = closed loop
	check           bool
	// script, when set, is the whole Lua script (forward.go's, which
	// sends a request line's own method, path and headers) instead of
	// luaScript with the fields above.
	script string
}

// wrkResult is what done() reports.
type wrkResult struct {
	Requests   int64   `json:"requests"`
	DurationUS int64   `json:"duration_us"`
	P50        float64 `json:"p50_us"`
	P99        float64 `json:"p99_us"`
	P999       float64 `json:"p999_us"`
	Connect    int64   `json:"connect"`
	Read       int64   `json:"read"`
	Write      int64   `json:"write"`
	Status     int64   `json:"status"`
	Timeout    int64   `json:"timeout"`
	Bad        int64   `json:"bad"`
	// Statuses counts answers by HTTP status, when the script counts them.
	Statuses map[string]int64 `json:"statuses,omitempty"`
}

func (r wrkResult) errors() int64 {
	return r.Connect + r.Read + r.Write + r.Status + r.Timeout + r.Bad
}

func runWrk(ctx context.Context, dir string, l load) (wrkResult, error) {
	script := filepath.Join(dir, fmt.Sprintf("load-%d.lua", time.Now().UnixNano()))
	src := l.script
	if src == "" {
		src = fmt.Sprintf(luaScript, l.bodies, strings.TrimPrefix(l.url, "http://"), l.path, l.auth, l.delay.Milliseconds(), l.check)
	}
	if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
		return wrkResult{}, fmt.Errorf("write wrk script: %w", err)
	}
	secs := max(1, int(l.duration.Round(time.Second)/time.Second))
	cmd := exec.CommandContext(ctx, "wrk", "-t", strconv.Itoa(l.threads), "-c", strconv.Itoa(l.connections),
		"-d", strconv.Itoa(secs)+"s", "--timeout", "10s", "-s", script, l.url)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		if _, lookErr := exec.LookPath("wrk"); lookErr != nil {
			return wrkResult{}, fmt.Errorf("wrk is not installed (Debian: apt-get install wrk): %w", lookErr)
		}
		return wrkResult{}, fmt.Errorf("wrk: %w\n%s%s", err, out.String(), stderr.String())
	}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if js, ok := strings.CutPrefix(sc.Text(), "BENCHJSON "); ok {
			var r wrkResult
			if err := json.Unmarshal([]byte(js), &r); err != nil {
				return r, fmt.Errorf("parse wrk summary: %w", err)
			}
			return r, nil
		}
	}
	return wrkResult{}, fmt.Errorf("wrk printed no summary:\n%s%s", out.String(), stderr.String())
}
