// Where the host engine's native code is, for binding.gyp: the kernels are written once, in
// @fulmen/accelerator-host, and this package compiles them too (its device code includes their headers; the
// device backend over host memory runs their host build). `node native/host-engine.cjs include` prints that
// package's native folder; `sources` prints its kernel sources (the list in its sources.gypi), one path a
// line, relative to the folder gyp runs in (this package's; gyp misplaces the objects of absolute paths). CommonJS:
// gyp runs it with node.
"use strict";
const { readFileSync } = require("node:fs");
const { dirname, join, relative } = require("node:path");

const root = dirname(require.resolve("@fulmen/accelerator-host/package.json"));

/** The lists of the host package's sources.gypi (gyp's syntax is JSON with # comments). */
function gypiLists() {
  const text = readFileSync(join(root, "sources.gypi"), "utf8")
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n");
  return JSON.parse(text).variables;
}

const command = process.argv[2];
if (command === "include") console.log(join(root, "native"));
else if (command === "sources")
  for (const file of gypiLists().host_kernel_sources) console.log(relative(process.cwd(), join(root, file)));
else {
  console.error("usage: node native/host-engine.cjs include|sources");
  process.exit(2);
}
