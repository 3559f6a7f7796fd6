import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// The package as a machine without a compiler or OpenBLAS has it: the same bundle, no build/Release addon. The copy
// sits inside this package so that it resolves @fulmen/core and @fulmen/fabric as the real one does.
const packageRoot = join(__dirname, "..");
const unbuilt = join(packageRoot, `.unbuilt-${process.pid}`);
afterAll(() => rmSync(unbuilt, { recursive: true, force: true }));

function runWithoutAddon(buildReason: string | null): {
  status: number | null;
  stdout: string;
  stderr: string;
} {
  rmSync(unbuilt, { recursive: true, force: true });
  mkdirSync(join(unbuilt, "dist"), { recursive: true });
  copyFileSync(join(packageRoot, "dist", "index.js"), join(unbuilt, "dist", "index.js"));
  if (buildReason !== null) {
    mkdirSync(join(unbuilt, "build"));
    writeFileSync(join(unbuilt, "build", "unavailable.txt"), buildReason);
  }
  const script = join(unbuilt, "probe.mjs");
  writeFileSync(
    script,
    `import { HostAccelerator } from "./dist/index.js";
import { Fabric } from "@fulmen/fabric";
const host = new HostAccelerator();
let named = "";
try { new Fabric({ accelerator: "host" }); } catch (e) { named = e.message; }
console.log(JSON.stringify({
  available: host.isAvailable(),
  reason: host.unavailableReason(),
  auto: new Fabric({ accelerator: "auto" }).accelerator.name,
  named,
}));
`,
  );
  return spawnSync(process.execPath, [script], { cwd: unbuilt, encoding: "utf8" });
}

describe('"host" where the native addon did not build', () => {
  it("auto falls back to wasm, and asking for host by name gives the build's reason and the fix", () => {
    const run = runWithoutAddon("g++ not found (node-gyp: make failed)");
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { available: boolean; reason: string; auto: string; named: string };
    expect(out.available).toBe(false);
    expect(out.auto).toBe("wasm");
    expect(out.reason).toMatch(/not built: g\+\+ not found \(node-gyp: make failed\)/);
    expect(out.reason).toMatch(/apt-get install -y g\+\+ make python3 libopenblas-dev/);
    expect(out.reason).toMatch(/npx fulmen-build-native/);
    expect(out.named).toMatch(
      /The accelerator "host" is not available on this machine: .*not built: g\+\+ not found/,
    );
  });

  it("says it has neither a source build nor a prebuilt engine for this platform when nothing left a reason", () => {
    const run = runWithoutAddon(null);
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { reason: string; named: string };
    expect(out.reason).toMatch(/not built: no source build, and no prebuilt engine for linux-x64-glibc/);
    expect(out.named).toMatch(/npx fulmen-build-native. in node_modules\/@fulmen\/accelerator-host/);
  });
});
