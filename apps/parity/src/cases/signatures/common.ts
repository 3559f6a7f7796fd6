/** What every family of signatures shares (apart from `torch-signatures.ts`, so that the families can use it). */

/** Marks a parameter PyTorch requires (no default). */
export const REQUIRED: unique symbol = Symbol("required");

/** One PyTorch parameter: its name and its default (or {@link REQUIRED}). */
export type TorchParam = readonly [name: string, defaultValue: unknown];

/** A PyTorch signature and how Fulmen's constructor takes the same arguments. */
export interface TorchSignature {
  /** PyTorch's parameters in positional order (PyTorch 1.13, plus later additions at the end). */
  params: readonly TorchParam[];
  /** How many leading parameters Fulmen takes positionally; the others go in its options object. */
  positional: number;
  /** Whether Fulmen's constructor takes an options object after its positional parameters. */
  options: boolean;
  /** PyTorch ignores every argument (`Identity(*args, **kwargs)`). */
  ignoresArguments?: boolean;
}

/** PyTorch's `device` and `dtype` factory keywords, which every module constructor takes last. */
export const FACTORY: readonly TorchParam[] = [
  ["device", null],
  ["dtype", null],
];
/** PyTorch's deprecated `size_average` and `reduce` loss keywords. */
export const LEGACY_REDUCTION: readonly TorchParam[] = [
  ["size_average", null],
  ["reduce", null],
];

/** `torch.nn.BatchNorm1d/2d/3d`'s signature. */
export const BATCH_NORM: TorchSignature = {
  params: [
    ["num_features", REQUIRED],
    ["eps", 1e-5],
    ["momentum", 0.1],
    ["affine", true],
    ["track_running_stats", true],
    ...FACTORY,
  ],
  positional: 1,
  options: true,
};

/** `torch.nn.AvgPool2d/3d`'s signature (AvgPool1d has no divisor override). */
export const AVG_POOL: TorchSignature = {
  params: [
    ["kernel_size", REQUIRED],
    ["stride", null],
    ["padding", 0],
    ["ceil_mode", false],
    ["count_include_pad", true],
    ["divisor_override", null],
  ],
  positional: 1,
  options: true,
};
