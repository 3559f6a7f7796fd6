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
  /** The training data, taken by `trainer.fit` when no `trainDataloaders` is passed; required by fit then. */
  trainDataloader?(): DataLoader<unknown, unknown>;
  /**
   * The validation data, taken by `trainer.fit` (optional there: without it fit does not validate) and by
   * `trainer.validate` when no loader is passed.
   */
  valDataloader?(): DataLoader<unknown, unknown>;
  /** The test data, taken by `trainer.test` when no `dataloaders` is passed. */
  testDataloader?(): DataLoader<unknown, unknown>;
  /** The prediction data, taken by `trainer.predict` when no `dataloaders` is passed. */
  predictDataloader?(): DataLoader<unknown, unknown>;
  /** State saved in checkpoints. */
  stateDict(): Record<string, unknown> {
    return {};
  }
  /** Restores {@link LightningDataModule.stateDict}. */
  loadStateDict(_state: Record<string, unknown>): void {}
}
