/** The parity replay as a library: run golden files through Fulmen from a test or a script. */
export { replayFile, replayCase, resultsFile, passed, RUNNERS } from "./replay";
export { maxAbsDiff, type GoldenFile, type GoldenCase, type CaseOutcome, type Nested } from "./golden";
