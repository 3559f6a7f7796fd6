// After a tsup build whose declarations are split into shared chunks (core's two entries): rollup-plugin-dts
// re-declares a class that a namespace (`nn`) takes from another chunk as a value only
// (`declare const index_Module: typeof Module;`), so `nn.Module` stops being a type. This adds the missing type
// alias (`type index_Module = Module;`) for every such class. A namespace re-exported inside another
// (`nn.utils.rnn`) is re-declared the same way (`declare const index_rnn: typeof rnn;`), which keeps its values
// but loses its types (`nn.utils.rnn.PackedSequence` as a type): that line becomes the alias `import index_rnn =
// rnn;`, which carries both. Nothing else changes.
// Usage: node fix-dts-namespace-classes.mjs DIST_FOLDER
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dist = process.argv[2];
const files = readdirSync(dist).filter((f) => /\.d\.c?ts$/.test(f));
const classes = new Set();
const namespaces = new Set();
for (const file of files) {
  const text = readFileSync(join(dist, file), "utf8");
  for (const m of text.matchAll(/^declare (?:abstract )?class (\w+)/gm)) classes.add(m[1]);
  for (const m of text.matchAll(/^declare namespace ([\w$]+)/gm)) namespaces.add(m[1]);
}
let fixed = 0;
for (const file of files) {
  const path = join(dist, file);
  const text = readFileSync(path, "utf8");
  const out = text.replace(/^declare const ([\w$]+): typeof ([\w$]+);$/gm, (line, alias, name) => {
    if (namespaces.has(name) && !classes.has(name)) {
      fixed++;
      return `import ${alias} = ${name};`;
    }
    if (!classes.has(name) || new RegExp(`^type ${alias.replace("$", "\\$")} =`, "m").test(text)) return line;
    fixed++;
    return `type ${alias} = ${name};\n${line}`;
  });
  if (out !== text) writeFileSync(path, out);
}
console.log(`fix-dts-namespace-classes: ${fixed} class or namespace type(s) restored in ${dist}`);
