// The Node-RED side of the HTTP comparison (http.sh): Node-RED's embedded runtime serving
// http-flow.json (http in POST /hello → change → http response) on a port, set up as
// Node-RED's own red.js does it (an express app on a plain http server, the node routes
// mounted at httpNodeRoot), with the editor and the admin API off. Prints
// `listening http://HOST:PORT/` when the flow is started and the port is bound, and serves
// until SIGTERM or SIGINT.
//
//   node http.mjs --node-red DIR --user-dir DIR --port N [--host 127.0.0.1] [--flow FILE]
//
// DIR of --node-red is a folder where `node-red` is installed (node_modules/node-red).

import { createRequire } from "node:module";
import { createServer } from "node:http";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));

function fail(message) {
  console.error(`http.mjs: ${message}`);
  process.exit(1);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        "node-red": { type: "string" },
        "user-dir": { type: "string" },
        port: { type: "string" },
        host: { type: "string", default: "127.0.0.1" },
        flow: { type: "string", default: join(here, "http-flow.json") },
      },
    });
  } catch (e) {
    fail(e.message);
  }
})();
for (const required of ["node-red", "user-dir", "port"]) {
  if (!values[required]) fail(`--${required} is required`);
}
if (!/^\d+$/.test(values.port) || Number(values.port) < 1 || Number(values.port) > 65535) {
  fail(`--port must be a port number, not '${values.port}'`);
}
const port = Number(values.port);

const nodeRedDir = resolve(values["node-red"]);
const requireFromNodeRed = createRequire(join(nodeRedDir, "package.json"));
let RED;
let express;
try {
  RED = requireFromNodeRed("node-red");
  // Node-RED's own express (a dependency of node-red, installed beside it).
  express = createRequire(requireFromNodeRed.resolve("node-red/package.json"))("express");
} catch (e) {
  fail(`cannot load node-red (and its express) from ${values["node-red"]}: ${e.message}`);
}

const userDir = resolve(values["user-dir"]);
await mkdir(userDir, { recursive: true });
await writeFile(join(userDir, "flows.json"), await readFile(values.flow));

// As red.js: an express app without x-powered-by on a plain http server.
const app = express();
app.set("x-powered-by", false);
const server = createServer((req, res) => app(req, res));
server.setMaxListeners(0);

const settings = {
  userDir,
  flowFile: "flows.json",
  uiHost: values.host,
  uiPort: port,
  httpAdminRoot: false,
  httpNodeRoot: "/",
  disableEditor: true,
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
};
RED.init(server, settings);
app.use(settings.httpNodeRoot, RED.httpNode);

const flowsStarted = new Promise((started) => RED.events.once("flows:started", started));
await RED.start();
await flowsStarted;
await new Promise((listening, failed) => {
  server.once("error", (e) => failed(e));
  server.listen(port, values.host, listening);
}).catch((e) => fail(`cannot listen on ${values.host}:${port}: ${e.message}`));

const version = requireFromNodeRed("node-red/package.json").version;
console.log(`listening http://${values.host}:${server.address().port}/ (Node-RED ${version}, Node.js ${process.version})`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  server.closeAllConnections?.();
  server.close();
  await RED.stop().catch(() => {});
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
