/** The parity replay as a library: run golden files through Fulmen from a test or a script. */

export {
  type CaseOutcome,
  type GoldenCase,
  type GoldenFile,
  MissingFeature,
  maxAbsDiff,
  type Nested,
} from "./golden";
export { missing, passed, RUNNERS, replayCase, replayFile, resultsFile } from "./replay";
