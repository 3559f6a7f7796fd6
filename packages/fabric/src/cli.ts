#!/usr/bin/env node
import { FulmenError } from "@fulmen/core";
import { CONSOLIDATE_USAGE, consolidateCommand } from "./cli/consolidate-command";
import { RUN_USAGE, runCommand } from "./cli/run-command";

// `fulmen-fabric run …` and `fulmen-fabric consolidate …` (also `fulmen run`/`fulmen consolidate` through
// @fulmen/trainer's CLI).
async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command !== "run" && command !== "consolidate") {
    const usage = `${RUN_USAGE}\n\n${CONSOLIDATE_USAGE}`;
    console.error(command === undefined ? usage : `Unknown command "${command}".\n\n${usage}`);
    process.exitCode = 2;
    return;
  }
  try {
    process.exitCode = command === "run" ? await runCommand(rest) : consolidateCommand(rest);
  } catch (error) {
    console.error(error instanceof FulmenError ? error.message : String(error));
    process.exitCode = 2;
  }
}

void main();
