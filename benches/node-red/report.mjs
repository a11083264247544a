// Prints the comparison table from the JSON results of run.mjs (Node-RED) and of
// `tinyhost bench --json` (one file per concurrency), and checks that every sink of both
// engines received what it should. Exits 1 when a count is wrong or a run had errors.
//
//   node report.mjs --messages N --node-red FILE --tinyhost FILE [--tinyhost FILE ...]

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    messages: { type: "string" },
    "node-red": { type: "string" },
    tinyhost: { type: "string", multiple: true, default: [] },
  },
});

function fail(message) {
  console.error(`report.mjs: ${message}`);
  process.exit(1);
}

function load(file) {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    fail(`cannot read the result ${file}: ${e.message}`);
  }
}

const messages = Number(values.messages);
if (!Number.isInteger(messages) || messages < 1) fail("--messages must be a whole number");
if (!values["node-red"] || values.tinyhost.length === 0) {
  fail("--node-red and at least one --tinyhost are required");
}

// Message i carries count i; the mapping adds one, so "even" gets the odd indexes.
const expected = { even: Math.floor(messages / 2), odd: messages - Math.floor(messages / 2) };

// The sink counts of a result: {even, odd}, from node names ending in -even / -odd.
function sinks(received) {
  const pick = (suffix) => {
    const entry = Object.entries(received ?? {}).find(([node]) => node.endsWith(suffix));
    return entry ? entry[1] : undefined;
  };
  return { even: pick("-even"), odd: pick("-odd") };
}

const nodeRed = load(values["node-red"]);
const rows = [
  {
    engine: `Node-RED ${nodeRed.version} (window ${nodeRed.window})`,
    rate: nodeRed.messages_per_second,
    sinks: sinks(nodeRed.received),
    rss: nodeRed.peak_rss_bytes,
    errors: 0,
    messages: nodeRed.messages,
  },
  ...values.tinyhost.map((file) => {
    const r = load(file);
    return {
      engine: `tinyhost c=${r.concurrency}`,
      rate: r.messages_per_second,
      sinks: sinks(r.received),
      rss: r.peak_rss_bytes,
      errors: r.errors,
      firstError: r.first_error,
      messages: r.messages,
      p50: r.latency_us?.p50,
    };
  }),
];

for (const r of rows) {
  if (typeof r.rate !== "number" || !(r.rate > 0)) fail(`${r.engine}: no msgs/s in its result`);
}

const mib = (bytes) => (bytes ? `${(bytes / (1024 * 1024)).toFixed(0)} MiB` : "?");
const table = [
  ["engine", "msgs/s", "vs Node-RED", "sink even", "sink odd", "peak RSS"],
  ...rows.map((r) => [
    r.engine,
    r.rate.toFixed(0),
    `${(r.rate / nodeRed.messages_per_second).toFixed(2)}x`,
    String(r.sinks.even ?? "missing"),
    String(r.sinks.odd ?? "missing"),
    mib(r.rss),
  ]),
];
const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
for (const row of table) {
  console.log(
    row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("   "),
  );
}

const problems = [];
for (const r of rows) {
  if (r.messages !== messages) problems.push(`${r.engine} measured ${r.messages} messages, not ${messages}`);
  if (r.errors) problems.push(`${r.engine} had ${r.errors} failed messages (first: ${r.firstError})`);
  for (const sink of ["even", "odd"]) {
    if (r.sinks[sink] !== expected[sink]) {
      problems.push(`${r.engine}: sink ${sink} received ${r.sinks[sink]}, expected ${expected[sink]}`);
    }
  }
}
console.log("");
if (problems.length > 0) {
  for (const p of problems) console.log(`FAIL: ${p}`);
  process.exit(1);
}
console.log(
  `ok: in every engine sink even received ${expected.even} and sink odd ${expected.odd} of ${messages} messages`,
);
