// The Node-RED side of the comparison: starts Node-RED's embedded runtime (no editor, no
// admin or node HTTP) on flow.json, hands messages to the first node in-process with
// `node.receive(msg)`, and measures how long it takes until the two sinks together counted
// every measured message. Writes one JSON object to --out.
//
//   node run.mjs --node-red DIR --user-dir DIR --out FILE [--messages N] [--warmup N]
//
// DIR of --node-red is a folder where `node-red` is installed (node_modules/node-red).
// Message i (0-based) is {payload: {name: "World", count: i}}; warm-up messages count
// on their own, and their sink counts are subtracted.

import { createRequire } from "node:module";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";

const here = dirname(fileURLToPath(import.meta.url));

const ENTRY = "compare-greet";
const SINKS = ["compare-even", "compare-odd"];

function fail(message) {
  console.error(`run.mjs: ${message}`);
  process.exit(1);
}

function count(name, text, min) {
  if (!/^\d+$/.test(text) || Number(text) < min) {
    fail(`--${name} must be a whole number of at least ${min}, not '${text}'`);
  }
  return Number(text);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        "node-red": { type: "string" },
        "user-dir": { type: "string" },
        out: { type: "string" },
        flow: { type: "string", default: join(here, "flow.json") },
        messages: { type: "string", default: "100000" },
        warmup: { type: "string", default: "10000" },
        // Messages in flight at most (handed over, not yet counted by a sink).
        window: { type: "string", default: "100" },
        // Seconds the whole run may take.
        timeout: { type: "string", default: "600" },
      },
    });
  } catch (e) {
    fail(e.message);
  }
})();
for (const required of ["node-red", "user-dir", "out"]) {
  if (!values[required]) fail(`--${required} is required`);
}
const messages = count("messages", values.messages, 1);
const warmup = count("warmup", values.warmup, 0);
const window = count("window", values.window, 1);
const timeoutSeconds = count("timeout", values.timeout, 1);

let entry = null;
let sinks = [];

// A run that hangs (a sink that never counts) ends with an error, never silently.
const watchdog = setTimeout(
  () => fail(`no result after ${timeoutSeconds} s (sink counts: ${JSON.stringify(sinkCounts())})`),
  timeoutSeconds * 1000,
);

const requireFromNodeRed = createRequire(join(resolve(values["node-red"]), "package.json"));
let RED;
try {
  RED = requireFromNodeRed("node-red");
} catch (e) {
  fail(`cannot load node-red from ${values["node-red"]}: ${e.message}`);
}

const userDir = resolve(values["user-dir"]);
await mkdir(userDir, { recursive: true });
await writeFile(join(userDir, "flows.json"), await readFile(values.flow));

RED.init({
  userDir,
  flowFile: "flows.json",
  httpAdminRoot: false,
  httpNodeRoot: false,
  disableEditor: true,
  uiPort: 0,
  logging: { console: { level: "warn", metrics: false, audit: false } },
  contextStorage: { default: { module: "memory" } },
  telemetry: { enabled: false, updateNotification: false },
  diagnostics: { enabled: false },
  runtimeState: { enabled: false },
  externalModules: {
    autoInstall: false,
    palette: { allowInstall: false },
    modules: { allowInstall: false },
  },
  functionExternalModules: false,
});
const flowsStarted = new Promise((started) => RED.events.once("flows:started", started));
await RED.start();
await flowsStarted;

entry = RED.nodes.getNode(ENTRY);
sinks = SINKS.map((id) => RED.nodes.getNode(id));
if (!entry || sinks.some((s) => !s)) {
  fail(`the flow lacks one of ${[ENTRY, ...SINKS].join(", ")}`);
}

function sinkCounts() {
  return Object.fromEntries(
    SINKS.map((id, i) => [id, sinks[i]?.context().get("count") || 0]),
  );
}

function total(counts) {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

// Hands messages 0..n to the entry node, keeping at most `window` of them in flight (handed
// over, not yet counted by a sink), and resolves when the sinks counted `n` more than
// `base`. The check runs once per turn of the event loop.
function drive(n, base) {
  return new Promise((done) => {
    let next = 0;
    const turn = () => {
      const counted = total(sinkCounts()) - base;
      if (counted >= n) {
        done();
        return;
      }
      const end = Math.min(n, counted + window);
      for (; next < end; next++) {
        entry.receive({ payload: { name: "World", count: next } });
      }
      setImmediate(turn);
    };
    turn();
  });
}

if (warmup > 0) {
  await drive(warmup, total(sinkCounts()));
}
const before = sinkCounts();
const started = performance.now();
await drive(messages, total(before));
const seconds = (performance.now() - started) / 1000;
const after = sinkCounts();
// Anything still in flight would show up here: wait a little and count again.
await new Promise((r) => setTimeout(r, 50));
const settled = sinkCounts();

const received = Object.fromEntries(SINKS.map((id) => [id, settled[id] - before[id]]));
const result = {
  engine: "node-red",
  version: requireFromNodeRed("node-red/package.json").version,
  node: process.version,
  messages,
  warmup,
  window,
  seconds,
  messages_per_second: messages / seconds,
  received,
  received_when_measured: Object.fromEntries(SINKS.map((id) => [id, after[id] - before[id]])),
  peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
};
await writeFile(values.out, JSON.stringify(result) + "\n");
clearTimeout(watchdog);
await RED.stop();
process.exit(0);
