#!/usr/bin/env node
import { FulmenError } from "@fulmen/core";
import { RUN_USAGE, runCommand } from "./cli/run-command";

// `fulmen-fabric run …` (and `fulmen run …` through @fulmen/trainer's CLI).
async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command !== "run") {
    console.error(command === undefined ? RUN_USAGE : `Unknown command "${command}".\n\n${RUN_USAGE}`);
    process.exitCode = 2;
    return;
  }
  try {
    process.exitCode = await runCommand(rest);
  } catch (error) {
    console.error(error instanceof FulmenError ? error.message : String(error));
    process.exitCode = 2;
  }
}

void main();
