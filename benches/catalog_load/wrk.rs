//! `wrk` as the load tool: one run per call, figures read from a line the Lua `done` hook
//! prints, and the serving process's CPU time sampled around the run.
use std::process::Command;

/// Per-run wrk figures, parsed from the line the Lua `done` hook prints.
#[derive(Debug, Default, Clone)]
pub struct WrkResult {
    pub requests: u64,
    pub seconds: f64,
    pub errors: u64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    pub hits: u64,
    pub misses: u64,
    pub no_header: u64,
    /// 1-minute load average right after the run (the machine is shared).
    pub load: f64,
    /// CPU time (user + system, all threads) the serving process spent per request.
    pub cpu_us_per_request: f64,
}

impl WrkResult {
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds.max(1e-9)
    }
}

/// Collects per-thread counters (set by `response`, when defined) and prints one line.
const REPORT_LUA: &str = r#"
local threads = {}
local next_id = 0
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end
function init(args)
  hits = 0
  misses = 0
  none = 0
  bad = 0
  k = 0
  -- args: a per-run offset (so no run repeats another's URLs), then the category ids
  offset = tonumber(args[1] or "0")
  categories = {}
  for i = 2, #args do categories[i - 1] = tonumber(args[i]) end
end
function done(summary, latency, requests)
  local h, m, n, b = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    h = h + (t:get("hits") or 0)
    m = m + (t:get("misses") or 0)
    n = n + (t:get("none") or 0)
    b = b + (t:get("bad") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d errors=%d p50=%d p90=%d p99=%d max=%d hits=%d misses=%d none=%d\n",
    summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout + b,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    h, m, n))
end
"#;

/// Every request a new (category, min_price, max_price) triple: never cached before.
const UNCACHED_LUA: &str = r#"
function request()
  local n = offset + k * 64 + id
  k = k + 1
  local category = categories[(n % #categories) + 1]
  local low = 100 + (n % 20000)
  local high = low + 5000 + math.floor(n / 20000)
  local path = string.format(
    "/api/products/?category=%d&min_price=%d.%02d&max_price=%d.%02d&in_stock=true",
    category, math.floor(low / 100), low % 100, math.floor(high / 100), high % 100)
  return wrk.format("GET", path)
end
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
  local x = headers["x-cache"] or headers["X-Cache"]
  if x == "MISS" then misses = misses + 1
  elseif x == "HIT" then hits = hits + 1
  else none = none + 1 end
end
"#;

pub struct Wrk {
    pub threads: u32,
    pub connections: u32,
    pub seconds: u64,
    pub script_dir: tempfile::TempDir,
}

impl Wrk {
    /// One wrk run against `url`; `pid` is the serving process, whose CPU time is sampled.
    pub fn run(
        &self,
        url: &str,
        uncached: bool,
        connections: u32,
        args: &[String],
        pid: u32,
    ) -> WrkResult {
        let script = self.script_dir.path().join(if uncached {
            "uncached.lua"
        } else {
            "report.lua"
        });
        let body = if uncached {
            format!("{REPORT_LUA}{UNCACHED_LUA}")
        } else {
            REPORT_LUA.to_owned()
        };
        std::fs::write(&script, body).expect("write wrk script");
        let threads = self.threads.min(connections).max(1);
        let cpu_before = crate::common::cpu_time(pid);
        let output = Command::new("wrk")
            .args(["-t", &threads.to_string()])
            .args(["-c", &connections.to_string()])
            .args(["-d", &format!("{}s", self.seconds)])
            .args(["--timeout", "10s", "-s"])
            .arg(&script)
            .arg(url)
            .arg("--")
            .args(args)
            .output()
            .expect("run wrk");
        let cpu = crate::common::cpu_time(pid).saturating_sub(cpu_before);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout
            .lines()
            .find(|l| l.starts_with("BENCH "))
            .unwrap_or_else(|| {
                panic!(
                    "wrk printed no result:\n{stdout}\n{}",
                    String::from_utf8_lossy(&output.stderr)
                )
            });
        let field = |name: &str| -> f64 {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0)
        };
        WrkResult {
            requests: field("requests") as u64,
            seconds: field("duration_us") / 1e6,
            errors: field("errors") as u64,
            p50_us: field("p50"),
            p90_us: field("p90"),
            p99_us: field("p99"),
            max_us: field("max"),
            hits: field("hits") as u64,
            misses: field("misses") as u64,
            no_header: field("none") as u64,
            load: crate::common::load_average(),
            cpu_us_per_request: cpu.as_secs_f64() * 1e6 / field("requests").max(1.0),
        }
    }
}
