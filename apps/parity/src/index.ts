/** The parity replay as a library: run golden files through Fulmen from a test or a script. */

export { type CaseOutcome, type GoldenCase, type GoldenFile, maxAbsDiff, type Nested } from "./golden";
export { passed, RUNNERS, replayCase, replayFile, resultsFile } from "./replay";
