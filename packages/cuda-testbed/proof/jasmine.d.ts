// The part of jasmine's runner the GPU proof uses (jasmine ships no types of its own).
declare module "jasmine" {
  interface SpecResult {
    status: string;
    fullName: string;
    failedExpectations: Array<{ message: string }>;
  }
  export default class Jasmine {
    exitOnCompletion: boolean;
    env: {
      configure(options: { random: boolean }): void;
      addReporter(reporter: { specDone(result: SpecResult): void }): void;
    };
    /** The console reporter's options; `print` replaces its output (the proof's report is the only output). */
    configureDefaultReporter(options: { print: (text: string) => void }): void;
    execute(): Promise<unknown>;
  }
}
