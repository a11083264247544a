// Prints the table (or, with --json, one JSON object) of the HTTP comparison (http.sh)
// from its run files, and checks every run, warm-ups included: exits 1 when wrk saw a
// socket error, a timeout, an answer other than 200, a 200 with a different body, or no
// request at all.
//
//   node http-report.mjs --runs DIR [--meta KEY=VALUE ...] [--json]
//
// A run file (DIR/*.json, measured runs in the order of their names) is
//   {"engine": "node-red"|"tinyhost", "label", "connections", "threads", "duration",
//    "warmup": bool, "peak_rss_bytes", "peak_rss_of": "run"|"process",
//    "wrk_requests_per_second", "wrk": <the wrk-result line of http-post.lua>}

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

function fail(message) {
  console.error(`http-report.mjs: ${message}`);
  process.exit(1);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        runs: { type: "string" },
        meta: { type: "string", multiple: true, default: [] },
        json: { type: "boolean", default: false },
      },
    });
  } catch (e) {
    fail(e.message);
  }
})();
if (!values.runs) fail("--runs is required");

const meta = {};
for (const kv of values.meta) {
  const at = kv.indexOf("=");
  if (at < 1) fail(`--meta needs KEY=VALUE, not '${kv}'`);
  const value = kv.slice(at + 1);
  meta[kv.slice(0, at)] = /^\d+$/.test(value) ? Number(value) : value;
}

const runs = readdirSync(values.runs)
  .filter((f) => f.endsWith(".json"))
  .sort()
  .map((f) => {
    try {
      return JSON.parse(readFileSync(join(values.runs, f), "utf8"));
    } catch (e) {
      fail(`cannot read the run ${f}: ${e.message}`);
    }
  });
if (runs.length === 0) fail(`no runs in ${values.runs}`);

const problems = [];
for (const r of runs) {
  const w = r.wrk;
  const name = `${r.label}, ${r.connections} connection${r.connections === 1 ? "" : "s"}${r.warmup ? " (warm-up)" : ""}`;
  if (!w || !(w.requests > 0)) {
    problems.push(`${name}: no request completed`);
    continue;
  }
  const sockets = ["connect", "read", "write", "timeout"].filter((e) => w.errors[e] > 0);
  if (sockets.length > 0) {
    problems.push(`${name}: socket errors ${sockets.map((e) => `${e} ${w.errors[e]}`).join(", ")}`);
  }
  if (w.non200 > 0) problems.push(`${name}: ${w.non200} answers were not 200 (first: ${w.first_bad})`);
  if (w.mismatch > 0) problems.push(`${name}: ${w.mismatch} answers had another body (first: ${w.first_bad})`);
  if (w.responses !== w.requests) {
    problems.push(`${name}: wrk completed ${w.requests} requests but checked ${w.responses} answers`);
  }
}

const rate = (r) => r.wrk_requests_per_second ?? r.wrk.requests / (r.wrk.duration_us / 1e6);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
// With several rounds, each engine and connection count is reported as the median of its
// rounds (requests/s, p50 and p99 each on its own), with the range of requests/s.
const groups = new Map();
for (const r of runs.filter((r) => !r.warmup)) {
  const key = `${r.engine}|${r.connections}`;
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(r);
}
const measured = [...groups.values()].map((rs) => ({
  ...rs[0],
  rounds: rs.length,
  rps: median(rs.map(rate)),
  rps_range: [Math.min(...rs.map(rate)), Math.max(...rs.map(rate))],
  requests: rs.reduce((n, r) => n + r.wrk.requests, 0),
  latency_us: Object.fromEntries(
    Object.keys(rs[0].wrk.latency_us).map((k) => [k, median(rs.map((r) => r.wrk.latency_us[k]))]),
  ),
  peak_rss_bytes: Math.max(...rs.map((r) => r.peak_rss_bytes)),
  non200: rs.reduce((n, r) => n + r.wrk.non200, 0),
  errors: rs[0].wrk.errors,
}));
const baseline = (r) =>
  measured.find((b) => b.engine === "node-red" && b.connections === r.connections);
const ratio = (a, b) => (a > 0 && b > 0 ? a / b : null);

const summary = {
  ...meta,
  ok: problems.length === 0,
  problems,
  runs: measured.map((r) => {
    const b = baseline(r);
    return {
      engine: r.engine,
      label: r.label,
      connections: r.connections,
      threads: r.threads,
      duration: r.duration,
      rounds: r.rounds,
      requests: r.requests,
      requests_per_second: r.rps,
      requests_per_second_range: r.rps_range,
      latency_us: r.latency_us,
      peak_rss_bytes: r.peak_rss_bytes,
      peak_rss_of: r.peak_rss_of,
      non200: r.non200,
      errors: r.errors,
      vs_node_red: b
        ? {
            requests_per_second: ratio(r.rps, b.rps),
            p50: ratio(r.latency_us.p50, b.latency_us.p50),
            p99: ratio(r.latency_us.p99, b.latency_us.p99),
            peak_rss: ratio(r.peak_rss_bytes, b.peak_rss_bytes),
          }
        : null,
    };
  }),
};

if (values.json) {
  console.log(JSON.stringify(summary, null, 2));
  process.exit(summary.ok ? 0 : 1);
}

const ms = (us) => {
  const v = us / 1000;
  return `${v < 1 ? v.toFixed(3) : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ms`;
};
const mib = (bytes) => (bytes ? `${(bytes / (1024 * 1024)).toFixed(0)} MiB` : "?");

// Per connection count: Node-RED first, then tinyhost.
const order = [...new Set(summary.runs.map((r) => r.connections))];
const rows = order.flatMap((c) =>
  summary.runs
    .filter((r) => r.connections === c)
    .sort((a, b) => (a.engine === "node-red" ? -1 : 0) - (b.engine === "node-red" ? -1 : 0)),
);
const ranged = rows.some((r) => r.rounds > 1);
const table = [
  ["engine", "connections", "requests/s", ...(ranged ? ["range"] : []), "p50", "p99", "peak RSS", "vs Node-RED"],
  ...rows.map((r) => [
    r.label,
    String(r.connections),
    r.requests_per_second.toFixed(0),
    ...(ranged
      ? [r.requests_per_second_range.map((v) => v.toFixed(0)).join("–")]
      : []),
    ms(r.latency_us.p50),
    ms(r.latency_us.p99),
    mib(r.peak_rss_bytes),
    r.vs_node_red?.requests_per_second != null
      ? `${r.vs_node_red.requests_per_second.toFixed(2)}x`
      : "-",
  ]),
];
const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
for (const row of table) {
  console.log(
    row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("   "),
  );
}
console.log("");
if (problems.length > 0) {
  for (const p of problems) console.log(`FAIL: ${p}`);
  process.exit(1);
}
const total = runs.reduce((n, r) => n + r.wrk.requests, 0);
console.log(
  `ok: ${total} requests in ${runs.length} wrk runs (warm-ups included), every answer 200 with the same body, no socket errors`,
);
