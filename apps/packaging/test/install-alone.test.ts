import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

const root = resolve(__dirname, "../../..");
const work = mkdtempSync(join(tmpdir(), "fulmen-pack-"));
const tarballs: Record<string, string> = {};

/** Every workspace package that is meant to be published (not private). */
function publishable(): Array<{ name: string; dir: string }> {
  const out: Array<{ name: string; dir: string }> = [];
  for (const group of ["packages", "apps"]) {
    for (const entry of readdirSync(join(root, group))) {
      const dir = join(root, group, entry);
      try {
        const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
          name: string;
          private?: boolean;
        };
        if (!pkg.private) out.push({ name: pkg.name, dir });
      } catch {
        // not a package
      }
    }
  }
  return out;
}

// pnpm's scripts export NODE_PATH pointing into the workspace's store, which would let a package find
// dependencies it does not declare: the checks run as a user's project would, without it.
const { NODE_PATH: _ignored, ...userEnv } = process.env;

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = userEnv): string {
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env });
}

/**
 * A machine without a compiler: PATH holds only node, npm, npx and the shell utilities npm needs (no g++, cc,
 * make, python3 or node-gyp).
 */
function withoutCompilers(): NodeJS.ProcessEnv {
  const bin = join(work, "no-compilers-bin");
  mkdirSync(bin, { recursive: true });
  for (const tool of ["node", "npm", "npx", "sh", "env", "ldd"]) {
    const found = execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim();
    if (!existsSync(join(bin, tool))) symlinkSync(found, join(bin, tool));
  }
  return { ...userEnv, PATH: bin };
}

/**
 * A user's script: `imports`, then five SGD steps on a linear layer with Fabric on `accelerator`; it prints the
 * accelerator's name, whether the loss fell, and `extra` (expressions after those).
 */
function trainingScript(imports: string, accelerator: string, extra: string): string {
  return `${imports}
    const fabric = new Fabric({ accelerator: "${accelerator}" });
    await fabric.launch();
    manualSeed(1);
    const model = new nn.Linear(2, 1);
    const [m, opt] = fabric.setup(model, new SGD(model, { lr: 0.02 }));
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const losses = [];
    for (let step = 0; step < 5; step++) {
      opt.zeroGrad();
      const loss = fabric.backward(() => tf.mean(tf.square(m.forward(x))));
      losses.push(loss.dataSync()[0]);
      loss.dispose();
      opt.step();
    }
    console.log(fabric.accelerator.name, losses[4] < losses[0], ${extra});`;
}

/** The native addons installed in a project, relative to its node_modules. */
function addonsIn(dir: string): string[] {
  return execFileSync("find", [join(dir, "node_modules"), "-name", "*.node"], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((path) => path.split("node_modules/")[1]!)
    .sort();
}

/**
 * Every addon of the project loads nothing but the C and C++ runtimes and libraries inside its own installed
 * packages (ldd, as resolved on this machine, which has its own copies of them too).
 */
function expectOnlyPackagedLibraries(dir: string, env: NodeJS.ProcessEnv): void {
  const runtimes = /^(linux-vdso\.so\.1|\/lib64\/ld-linux-x86-64\.so\.2|lib(c|m|stdc\+\+|gcc_s)\.so\.\d+)$/;
  for (const addon of addonsIn(dir)) {
    const libraries = run("ldd", [join(dir, "node_modules", addon)], dir, env)
      .trim()
      .split("\n");
    for (const line of libraries) {
      const [name, , path] = line.trim().split(/\s+/);
      if (runtimes.test(name!)) continue;
      expect(path, `${addon} loads ${name} from outside its package`).toMatch(
        new RegExp(`^${join(dir, "node_modules", addon.split("/prebuilds/")[0]!)}/`),
      );
    }
  }
}

/** An empty project with exactly these tarballs installed (npm, as a user outside the monorepo would). */
function project(name: string, packages: string[], env: NodeJS.ProcessEnv = userEnv): string {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, private: true, type: "module" }));
  run(
    "npm",
    ["install", "--no-audit", "--no-fund", "--loglevel=error", ...packages.map((p) => tarballs[p]!)],
    dir,
    env,
  );
  return dir;
}

beforeAll(() => {
  const dest = join(work, "tarballs");
  mkdirSync(dest);
  for (const { name, dir } of publishable()) {
    run("pnpm", ["pack", "--pack-destination", dest], dir);
    const file = readdirSync(dest).find((f) => f.startsWith(name.replace("@", "").replace("/", "-")));
    if (file === undefined) throw new Error(`pnpm pack produced no tarball for ${name}`);
    tarballs[name] = join(dest, file);
  }
});

describe("plugin packages", () => {
  it("take @fulmen/core as a peer dependency, so that a project holds one copy of it", () => {
    const plugins = publishable().filter(({ name }) =>
      /^@fulmen\/(accelerator|collective|strategy)-/.test(name),
    );
    expect(plugins.length).toBeGreaterThanOrEqual(4);
    for (const { name, dir } of plugins) {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        dependencies?: Record<string, string>;
        peerDependencies?: Record<string, string>;
      };
      expect(pkg.peerDependencies?.["@fulmen/core"], name).toBeDefined();
      expect(pkg.dependencies?.["@fulmen/core"], name).toBeUndefined();
    }
  });
});

describe("each package installs and imports on its own", () => {
  it("packs every publishable package", () => {
    expect(Object.keys(tarballs).sort()).toEqual(
      expect.arrayContaining(["@fulmen/core", "@fulmen/fabric", "@fulmen/precision"]),
    );
  });

  it("@fulmen/core alone trains a layer, from ESM and from CommonJS", () => {
    const dir = project("core-alone", ["@fulmen/core"]);
    const installed = readdirSync(join(dir, "node_modules/@fulmen"));
    expect(installed).toEqual(["core"]);
    const esm = `
      import { nn, AdamW, backward, tf, seedEverything } from "@fulmen/core";
      seedEverything(1);
      const model = new nn.Linear(3, 1);
      const opt = new AdamW(model, { lr: 0.1 });
      const x = tf.tensor2d([[1, 2, 3]]);
      const losses = [];
      for (let i = 0; i < 5; i++) {
        opt.zeroGrad();
        const loss = backward(() => nn.mseLoss(model.forward(x), tf.tensor2d([[1]])), model);
        opt.step();
        losses.push(loss.dataSync()[0]);
      }
      console.log(JSON.stringify(losses));`;
    writeFileSync(join(dir, "check.mjs"), esm);
    const losses = JSON.parse(run("node", ["check.mjs"], dir).trim().split("\n").at(-1)!) as number[];
    expect(losses).toHaveLength(5);
    expect(losses[4]!).toBeLessThan(losses[0]!);
    const cjs = `const { nn, tf } = require("@fulmen/core"); console.log(JSON.stringify(new nn.Linear(2, 4).forward(tf.ones([1, 2])).shape));`;
    writeFileSync(join(dir, "check.cjs"), cjs);
    expect(run("node", ["check.cjs"], dir).trim().split("\n").at(-1)).toBe("[1,4]");
  });

  it("@fulmen/precision installs with only its declared dependencies", () => {
    const dir = project("precision-alone", ["@fulmen/precision", "@fulmen/core"]);
    writeFileSync(
      join(dir, "check.mjs"),
      `import { GradScaler } from "@fulmen/precision";
       import { Parameter, SGD, tf } from "@fulmen/core";
       const p = new Parameter([1]);
       const s = new GradScaler({ initScale: 4 });
       p.setGrad(tf.tensor1d([Infinity]));
       console.log(s.step(new SGD([p], { lr: 1 })), (s.update(), s.getScale()));`,
    );
    expect(run("node", ["check.mjs"], dir).trim().split("\n").at(-1)).toBe("false 2");
  });

  it("@fulmen/fabric installs with only its declared dependencies and trains", () => {
    const manifest = JSON.parse(readFileSync(join(root, "packages/fabric/package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    const fulmenDeps = Object.keys(manifest.dependencies).filter((d) => d.startsWith("@fulmen/"));
    const dir = project("fabric-alone", ["@fulmen/fabric", ...fulmenDeps]);
    expect(readdirSync(join(dir, "node_modules/@fulmen")).sort()).toEqual(["core", "fabric", "precision"]);
    writeFileSync(
      join(dir, "check.mjs"),
      `import { CSVLogger, Fabric, TensorBoardLogger } from "@fulmen/fabric";
       import { nn, SGD, tf } from "@fulmen/core";
       const fabric = new Fabric();
       await fabric.launch();
       const model = new nn.Linear(2, 1);
       const [m, opt] = fabric.setup(model, new SGD(model, { lr: 0.1 }));
       const x = tf.tensor2d([[1, 2]]);
       const y = tf.tensor2d([[3]]);
       const losses = [];
       for (let i = 0; i < 5; i++) {
         opt.zeroGrad();
         losses.push(fabric.backward(() => nn.mseLoss(m.forward(x), y)).dataSync()[0]);
         opt.step();
       }
       const tb = new TensorBoardLogger({ rootDir: "logs" });
       const csv = new CSVLogger({ rootDir: "logs" });
       const logged = new Fabric({ loggers: [tb, csv], precision: "bf16-mixed" });
       logged.log("loss", losses[4], 5);
       tb.finalize("success");
       csv.finalize("success");
       fabric.save("run.ckpt", { model: m, optimizer: opt, step: 5 });
       const state = { model: m, optimizer: opt, step: 0 };
       fabric.load("run.ckpt", state);
       console.log(fabric.strategy.name, fabric.device, losses[4] < losses[0], state.step);`,
    );
    expect(run("node", ["check.mjs"], dir).trim().split("\n").at(-1)).toBe("single_device wasm:0 true 5");
  });

  it("@fulmen/fabric without its optional wasm backend falls back to the cpu accelerator", () => {
    const dir = project("fabric-no-wasm", ["@fulmen/fabric", "@fulmen/core", "@fulmen/precision"]);
    // As on a machine where the optional dependency could not be installed.
    rmSync(join(dir, "node_modules/@tensorflow/tfjs-backend-wasm"), { recursive: true, force: true });
    writeFileSync(
      join(dir, "check.mjs"),
      `import { Fabric } from "@fulmen/fabric";
       const fabric = new Fabric();
       await fabric.launch();
       let message = "";
       try { new Fabric({ accelerator: "wasm" }); } catch (e) { message = e.message; }
       console.log(fabric.device, message);`,
    );
    expect(run("node", ["check.mjs"], dir).trim().split("\n").at(-1)).toBe(
      'cpu:0 The accelerator "wasm" is not available on this machine.',
    );
  });

  it("@fulmen/trainer installs with only its declared dependencies and fits a module", () => {
    const dir = project("trainer-alone", [
      "@fulmen/trainer",
      "@fulmen/fabric",
      "@fulmen/core",
      "@fulmen/precision",
    ]);
    writeFileSync(
      join(dir, "check.mjs"),
      `import { DataLoader, nn, SGD } from "@fulmen/core";
       import { LightningModule, Trainer } from "@fulmen/trainer";
       class M extends LightningModule {
         net = new nn.Linear(2, 2);
         trainingStep(b) { return nn.crossEntropy(this.net.forward(b.x), b.y); }
         configureOptimizers() { return new SGD(this, { lr: 0.1 }); }
       }
       const rows = Array.from({ length: 8 }, (_, i) => ({ x: [i, -i], y: i % 2 }));
       const data = new DataLoader({ length: 8, get: (i) => rows[i] }, { batchSize: 4 });
       const trainer = new Trainer({ maxEpochs: 2, logger: false, enableCheckpointing: false, enableProgressBar: false, enableModelSummary: false });
       await trainer.fit(new M(), { trainDataloaders: data });
       console.log(trainer.globalStep);`,
    );
    expect(run("node", ["check.mjs"], dir).trim().split("\n").at(-1)).toBe("4");
    expect(run("npx", ["fulmen", "--help"], dir)).toContain("usage: fulmen fit|validate|test|predict");
  });

  it("@fulmen/collective-gloo installs with no compiler and no install script: its prebuilt addon loads Gloo's libraries from beside it, and Fabric trains with DDP on 2 processes", () => {
    const noCompilers = withoutCompilers();
    const dir = project(
      "fabric-ddp",
      [
        "@fulmen/fabric",
        "@fulmen/core",
        "@fulmen/precision",
        "@fulmen/collective-gloo",
        "@fulmen/native-build",
      ],
      noCompilers,
    );
    expect(addonsIn(dir)).toEqual(["@fulmen/collective-gloo/prebuilds/linux-x64-glibc/fulmen_gloo.node"]);
    expectOnlyPackagedLibraries(dir, noCompilers);
    writeFileSync(
      join(dir, "check.mjs"),
      `import { manualSeed, nn, SGD, tf } from "@fulmen/core";
       import { Fabric } from "@fulmen/fabric";
       const fabric = new Fabric({ accelerator: "cpu", strategy: "ddp", devices: 2 });
       await fabric.launch();
       manualSeed(fabric.globalRank + 1); // different initial weights: DDP copies rank 0's to every rank
       const model = new nn.Linear(3, 2);
       const [m, opt] = fabric.setup(model, new SGD(model, { lr: 0.1 }));
       for (let step = 0; step < 3; step++) {
         const x = tf.randomNormal([4, 3], 0, 1, "float32", 10 * step + fabric.globalRank + 1);
         opt.zeroGrad();
         fabric.backward(() => tf.mean(tf.square(m.forward(x)))).dispose();
         opt.step();
         x.dispose();
       }
       const gathered = fabric.allGather(m.weight.data).arraySync();
       const same = JSON.stringify(gathered[0]) === JSON.stringify(gathered[1]);
       if (fabric.globalRank === 0) console.log(fabric.worldSize, same);`,
    );
    expect(run("node", ["check.mjs"], dir, noCompilers).trim().split("\n").at(-1)).toBe("2 true");
  });

  it('"fulmen" installs with its parts (the native CPU engine prebuilt), and a user trains on "host" with one import', () => {
    const dir = project("fulmen-alone", [
      "fulmen",
      "@fulmen/core",
      "@fulmen/precision",
      "@fulmen/fabric",
      "@fulmen/trainer",
      "@fulmen/accelerator-host",
      "@fulmen/collective-gloo",
      "@fulmen/native-build",
    ]);
    writeFileSync(
      join(dir, "check.mjs"),
      trainingScript(
        'import { Fabric, LightningModule, manualSeed, nn, SGD, tf, Trainer } from "fulmen";',
        "auto",
        "typeof Trainer, typeof LightningModule",
      ),
    );
    expect(run("node", ["check.mjs"], dir).trim().split("\n").at(-1)).toBe("host true function function");
  });

  it("@fulmen/accelerator-host installs with no compiler and no install script: its prebuilt engine needs only the C and C++ runtimes, and trains", () => {
    const noCompilers = withoutCompilers();
    expect(() =>
      run("sh", ["-c", "command -v g++ || command -v cc || command -v make"], work, noCompilers),
    ).toThrow();
    const manifest = JSON.parse(
      execFileSync("tar", ["-xOzf", tarballs["@fulmen/accelerator-host"]!, "package/package.json"], {
        encoding: "utf8",
      }),
    ) as { scripts?: Record<string, string> };
    // "install": "" only keeps pnpm from running node-gyp in the workspace; npm runs nothing and reports none.
    const scripts = manifest.scripts ?? {};
    expect([scripts.preinstall, scripts.install, scripts.postinstall].filter(Boolean)).toEqual([]);
    const dir = project(
      "host-prebuilt",
      [
        "@fulmen/accelerator-host",
        "@fulmen/core",
        "@fulmen/fabric",
        "@fulmen/precision",
        "@fulmen/native-build",
      ],
      noCompilers,
    );
    expect(addonsIn(dir)).toEqual(["@fulmen/accelerator-host/prebuilds/linux-x64-glibc/fulmen_engine.node"]);
    // OpenBLAS is linked in: ldd names nothing but the C and C++ runtimes.
    expectOnlyPackagedLibraries(dir, noCompilers);
    writeFileSync(
      join(dir, "check.mjs"),
      trainingScript(
        'import "@fulmen/accelerator-host"; import { manualSeed, nn, SGD, tf } from "@fulmen/core"; import { Fabric } from "@fulmen/fabric";',
        "host",
        "tf.getBackend()",
      ),
    );
    expect(run("node", ["check.mjs"], dir, noCompilers).trim().split("\n").at(-1)).toBe(
      "host true fulmen-host",
    );
  });
});
