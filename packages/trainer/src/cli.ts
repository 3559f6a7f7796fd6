#!/usr/bin/env node
import { CliUsageError, runCli } from "./cli/lightning-cli";

async function main(): Promise<void> {
  try {
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
