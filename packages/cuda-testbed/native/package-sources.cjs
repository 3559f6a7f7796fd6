// What this package compiles from the packages whose code it tests, for binding.gyp and the tests that build a
// variant: `node native/package-sources.cjs include PACKAGE` prints that package's native folder;
// `sources PACKAGE LIST...` prints the files of those lists of its sources.gypi, one a line, relative to the folder
// gyp runs in (this package's; gyp misplaces the objects of absolute paths). Packages are found through Node's
// resolution, as an installed dependency. CommonJS: gyp runs it with node.
"use strict";
const { readFileSync } = require("node:fs");
const { dirname, join, relative } = require("node:path");

/** The folder of an installed package. */
function packageRoot(name) {
  return dirname(require.resolve(`${name}/package.json`));
}

/** The lists of a package's sources.gypi (gyp's syntax is JSON with # comments). */
function gypiLists(root) {
  const text = readFileSync(join(root, "sources.gypi"), "utf8")
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n");
  return JSON.parse(text).variables;
}

/** The files of `lists` in `name`'s sources.gypi, as absolute paths. */
function packageSources(name, lists) {
  const root = packageRoot(name);
  const variables = gypiLists(root);
  return lists.flatMap((list) => {
    if (variables[list] === undefined) throw new Error(`${name}'s sources.gypi has no list '${list}'`);
    return variables[list].map((file) => join(root, file));
  });
}

module.exports = { packageRoot, packageSources };

if (require.main === module) {
  const [command, name, ...lists] = process.argv.slice(2);
  if (command === "include" && name) console.log(join(packageRoot(name), "native"));
  else if (command === "sources" && name && lists.length > 0)
    for (const file of packageSources(name, lists)) console.log(relative(process.cwd(), file));
  else {
    console.error("usage: node native/package-sources.cjs include PACKAGE | sources PACKAGE LIST...");
    process.exit(2);
  }
}
