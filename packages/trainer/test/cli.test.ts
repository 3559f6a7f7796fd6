import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseCli } from "../src/index";

const cli = join(__dirname, "../dist/cli.js");
const fixture = join(__dirname, "fixtures/cli/model.mjs");

function setup(): { dir: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), "fulmen-cli-"));
  const config = join(dir, "cfg.yaml");
  writeFileSync(
    config,
    `seedEverything: 7
model:
  classPath: ${fixture}#Classifier
  initArgs: { hidden: 8, lr: 0.1 }
data:
  classPath: ${fixture}#Toy
trainer:
  accelerator: cpu
  maxEpochs: 1
  enableProgressBar: false
  enableModelSummary: false
  defaultRootDir: ${dir}
`,
  );
  return { dir, config };
}

describe("fulmen fit|validate|test|predict (LightningCLI)", () => {
  it("merges configs and dotted flags, --model.x meaning --model.initArgs.x", () => {
    const { config } = setup();
    const parsed = parseCli(["fit", "--config", config, "--trainer.maxEpochs", "3", "--model.lr", "0.05"]);
    expect(parsed.command).toBe("fit");
    expect(parsed.config.trainer!.maxEpochs).toBe(3);
    expect(parsed.config.trainer!.accelerator).toBe("cpu");
    expect(parsed.config.model!.initArgs).toEqual({ hidden: 8, lr: 0.05 });
    expect(parsed.config.seedEverything).toBe(7);
  });

  it("prints the merged config", () => {
    const { config } = setup();
    const run = spawnSync(
      process.execPath,
      [cli, "fit", "--config", config, "--trainer.maxEpochs", "2", "--print-config"],
      { encoding: "utf8" },
    );
    expect(run.status).toBe(0);
    const printed = parse(run.stdout) as { trainer: { maxEpochs: number } };
    expect(printed.trainer.maxEpochs).toBe(2);
  });

  it("fits from the config, saving it next to the logs, then tests a checkpoint", () => {
    const { dir, config } = setup();
    const fit = spawnSync(
      process.execPath,
      [cli, "fit", "--config", config, "--trainer.maxEpochs", "2", "--model.lr", "0.2"],
      { encoding: "utf8" },
    );
    expect(fit.stderr).toBe("");
    expect(fit.status).toBe(0);
    const logDir = join(dir, "lightning_logs", "version_0");
    const saved = parse(readFileSync(join(logDir, "config.yaml"), "utf8")) as {
      subcommand: string;
      model: { initArgs: { lr: number } };
    };
    expect(saved.subcommand).toBe("fit");
    expect(saved.model.initArgs.lr).toBe(0.2);
    const ckpt = join(logDir, "checkpoints", "epoch=1-step=8.ckpt");
    expect(existsSync(ckpt)).toBe(true);
    const test = spawnSync(process.execPath, [cli, "test", "--config", config, "--ckptPath", ckpt], {
      encoding: "utf8",
    });
    expect(test.status).toBe(0);
    expect(JSON.parse(test.stdout.trim().split("\n").at(-1)!).test_loss).toBeGreaterThan(0);
  });

  it("explains bad usage", () => {
    const none = spawnSync(process.execPath, [cli], { encoding: "utf8" });
    expect(none.status).toBe(2);
    expect(none.stderr).toContain("usage: fulmen fit|validate|test|predict");
    const { config } = setup();
    const bad = spawnSync(
      process.execPath,
      [cli, "fit", "--config", config, "--model.classPath", `${fixture}#Nope`],
      { encoding: "utf8" },
    );
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("has no export 'Nope'; exports: Classifier, Toy");
  });
});

describe("command-line values", () => {
  it("reads true, false, null and lists as YAML does (Lightning's CLI), and keeps other text as typed", () => {
    const parsed = parseCli([
      "fit",
      "--trainer.enableProgressBar",
      "false",
      "--trainer.enableModelSummary",
      "true",
      "--trainer.maxTime",
      "null",
      "--model.tags",
      "[a, b]",
      "--model.name",
      "run: one",
      "--model.path",
      "./out",
    ]);
    expect(parsed.config.trainer?.enableProgressBar).toBe(false);
    expect(parsed.config.trainer?.enableModelSummary).toBe(true);
    expect(parsed.config.trainer?.maxTime).toBeNull();
    expect(parsed.config.model?.initArgs).toEqual({ tags: ["a", "b"], name: "run: one", path: "./out" });
  });
});
