// Checks of the HTTP comparison (http.sh), done before anything is measured.
//
//   node http-check.mjs --url URL --body TEXT --pid PID --out FILE [--timeout S]
//     sends the benchmark's request (POST URL, text/plain body TEXT) until the server
//     answers 200 with a JSON body, and writes {status, content_type, body} to FILE. Fails
//     when process PID exits first, or after S seconds (default 60) with the last answer.
//
//   node http-check.mjs --same NAME=FILE NAME=FILE
//     fails, printing both, unless the two answers carry the same JSON value (the same
//     keys and values; the order of keys does not matter).

import { readFileSync, writeFileSync } from "node:fs";
import { isDeepStrictEqual, parseArgs } from "node:util";

function fail(message) {
  console.error(`http-check.mjs: ${message}`);
  process.exit(1);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        url: { type: "string" },
        body: { type: "string", default: "hi there" },
        pid: { type: "string" },
        out: { type: "string" },
        timeout: { type: "string", default: "60" },
        same: { type: "string", multiple: true },
      },
    });
  } catch (e) {
    fail(e.message);
  }
})();

if (values.same) {
  if (values.same.length !== 2) fail("--same needs two NAME=FILE");
  const answers = values.same.map((arg) => {
    const at = arg.indexOf("=");
    if (at < 1) fail(`--same needs NAME=FILE, not '${arg}'`);
    const name = arg.slice(0, at);
    const answer = JSON.parse(readFileSync(arg.slice(at + 1), "utf8"));
    return { name, answer, value: JSON.parse(answer.body) };
  });
  const [a, b] = answers;
  if (!isDeepStrictEqual(a.value, b.value)) {
    console.error("the two servers answer the same request differently:");
    for (const { name, answer } of answers) {
      console.error(`  ${name} (${answer.content_type}): ${answer.body}`);
    }
    process.exit(1);
  }
  process.exit(0);
}

for (const required of ["url", "pid", "out"]) {
  if (!values[required]) fail(`--${required} is required`);
}
const pid = Number(values.pid);
const deadline = Date.now() + Number(values.timeout) * 1000;

function alive() {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let last = "no answer yet";
for (;;) {
  if (!alive()) fail(`the server (process ${pid}) exited before it answered ${values.url}`);
  try {
    const response = await fetch(values.url, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: values.body,
      signal: AbortSignal.timeout(5000),
    });
    const body = await response.text();
    const answer = {
      status: response.status,
      content_type: response.headers.get("content-type"),
      body,
    };
    last = `${answer.status} ${answer.content_type}: ${body.slice(0, 500)}`;
    if (answer.status === 200) {
      try {
        JSON.parse(body);
      } catch {
        fail(`${values.url} answered 200 with a body that is not JSON: ${body.slice(0, 500)}`);
      }
      writeFileSync(values.out, JSON.stringify(answer) + "\n");
      process.exit(0);
    }
  } catch (e) {
    last = e.cause?.code ?? e.message;
  }
  if (Date.now() > deadline) {
    fail(`${values.url} did not answer 200 within ${values.timeout} s; last: ${last}`);
  }
  await new Promise((r) => setTimeout(r, 100));
}
