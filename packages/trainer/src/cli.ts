#!/usr/bin/env node
import { consolidateCommand, runCommand } from "@fulmen/fabric";
import { exportWeightsCommand } from "./cli/export-weights-command";
import { CliUsageError, runCli } from "./cli/lightning-cli";

async function main(): Promise<void> {
  try {
    // `fulmen run …` starts a script as several processes (Fabric's launcher), as Lightning's `fabric run`.
    if (process.argv[2] === "run") {
      process.exitCode = await runCommand(process.argv.slice(3));
      return;
    }
    // `fulmen consolidate FOLDER OUT` turns a sharded checkpoint folder into one ordinary file.
    if (process.argv[2] === "consolidate") {
      process.exitCode = consolidateCommand(process.argv.slice(3));
      return;
    }
    // `fulmen export-weights CKPT OUT` writes a checkpoint's model weights as a plain PyTorch state dict.
    if (process.argv[2] === "export-weights") {
      process.exitCode = exportWeightsCommand(process.argv.slice(3));
      return;
    }
    const result = await runCli(process.argv.slice(2));
    if (Array.isArray(result) && result.length > 0 && typeof result[0] === "object")
      console.log(JSON.stringify(result[0]));
  } catch (e) {
    if (e instanceof CliUsageError) {
      (e.exitCode === 0 ? console.log : console.error)(e.message);
      process.exitCode = e.exitCode;
    } else {
      console.error(e instanceof Error ? e.message : String(e));
      process.exitCode = 1;
    }
  }
}

void main();
