// Renders react-querybuilder rule groups as SQL with the library's own formatQuery, for
// tests/test_filters_differential.py (which installs the package and runs this once per test session).
//
//   node tests/rqb_format.mjs <npm prefix the package is installed under> <expected package version>
//   stdin:  {"options": {...formatQuery options...}, "groups": [rule group, ...]}
//   stdout: one line per group, in order: the where-clause as a JSON string (a value may hold a newline)
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const PACKAGE = "@react-querybuilder/core";
const [prefix, expectedVersion] = process.argv.slice(2);
if (!prefix || !expectedVersion) {
  console.error("usage: node rqb_format.mjs <npm prefix> <expected version>");
  process.exit(2);
}
// Resolve from the prefix (not from this file's directory), where `npm install --prefix` put node_modules.
const require = createRequire(join(prefix, "package.json"));
const { version } = require(`${PACKAGE}/package.json`);
if (version !== expectedVersion) {
  // The differential test pins one version; comparing against another would test something else.
  console.error(`${PACKAGE} under ${prefix} is ${version}, expected ${expectedVersion}`);
  process.exit(3);
}
const { formatQuery } = require(PACKAGE);

const { options, groups } = JSON.parse(readFileSync(0, "utf8"));
const lines = groups.map((group) => JSON.stringify(formatQuery(group, { ...options, format: "sql" })));
process.stdout.write(lines.length ? `${lines.join("\n")}\n` : "");
