import type { DataLoader } from "@fulmen/core";

/**
 * Lightning's LightningDataModule: everything about data in one place. The Trainer calls `prepareData` once,
 * `setup(stage)` before each stage, then takes the loaders it needs.
 */
export abstract class LightningDataModule {
  /** Downloads or prepares data (once). */
  prepareData(): void {}
  /** Builds the datasets of a stage ("fit", "validate", "test", "predict"). */
  setup(_stage: string): void {}
  /** Cleans up after a stage. */
  teardown(_stage: string): void {}
  trainDataloader?(): DataLoader<unknown, unknown>;
  valDataloader?(): DataLoader<unknown, unknown>;
  testDataloader?(): DataLoader<unknown, unknown>;
  predictDataloader?(): DataLoader<unknown, unknown>;
  /** State saved in checkpoints. */
  stateDict(): Record<string, unknown> {
    return {};
  }
  /** Restores {@link LightningDataModule.stateDict}. */
  loadStateDict(_state: Record<string, unknown>): void {}
}
