import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
import {
  type BCELossOptions,
  type BCEWithLogitsOptions,
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  type CosineEmbeddingLossOptions,
  type CrossEntropyOptions,
  type CTCLossOptions,
  cosineEmbeddingLoss,
  crossEntropy,
  ctcLoss,
  type GaussianNLLLossOptions,
  gaussianNllLoss,
  type HingeEmbeddingLossOptions,
  type HuberLossOptions,
  hingeEmbeddingLoss,
  huberLoss,
  type KLDivOptions,
  klDiv,
  type Lengths,
  l1Loss,
  type MarginRankingLossOptions,
  type MultiLabelMarginLossOptions,
  type MultiLabelSoftMarginLossOptions,
  type MultiMarginLossOptions,
  marginRankingLoss,
  mseLoss,
  multilabelMarginLoss,
  multilabelSoftMarginLoss,
  multiMarginLoss,
  type NLLLossOptions,
  nllLoss,
  type PoissonNLLLossOptions,
  poissonNllLoss,
  type Reduction,
  type SmoothL1LossOptions,
  type SoftMarginLossOptions,
  smoothL1Loss,
  softMarginLoss,
  type TripletMarginLossOptions,
  type TripletMarginWithDistanceLossOptions,
  tripletMarginLoss,
  tripletMarginWithDistanceLoss,
} from "../functional/losses";
import { Module } from "../module";

/**
 * A loss whose tensor options PyTorch keeps as buffers (`_WeightedLoss`'s `weight`, BCEWithLogitsLoss's
 * `pos_weight`): saved in the state dict when given, so PyTorch's state dict of the module loads strictly, and
 * read back at every forward (loadStateDict may replace them). The module keeps its own copies.
 */
abstract class BufferedLoss<O extends object> extends Module {
  constructor(
    owner: string,
    private readonly options: O,
    valid: readonly string[],
    private readonly tensorOptions: ReadonlyArray<readonly [name: string, key: string]> = [
      ["weight", "weight"],
    ],
  ) {
    super();
    checkOptionNames(owner, options, valid);
    const given = options as Record<string, unknown>;
    for (const [name, key] of tensorOptions) {
      const t = given[name];
      this.registerBuffer(name, t instanceof tf.Tensor ? tf.clone(t) : null, { key });
    }
  }

  /** The options with the current buffers in place of the tensors given to the constructor. */
  protected current(): O {
    const out: Record<string, unknown> = { ...(this.options as Record<string, unknown>) };
    const self = this as unknown as Record<string, tf.Tensor | null>;
    for (const [name] of this.tensorOptions) {
      const t = self[name];
      if (t === null || t === undefined) delete out[name];
      else out[name] = t;
    }
    return out as O;
  }
}

/** The module form of {@link crossEntropy}, like `torch.nn.CrossEntropyLoss` (its `weight` is a buffer). */
export class CrossEntropyLoss extends BufferedLoss<CrossEntropyOptions> {
  constructor(options: CrossEntropyOptions = {}) {
    super("CrossEntropyLoss", options, ["reduction", "ignoreIndex", "labelSmoothing", "weight"]);
  }

  forward(input: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return crossEntropy(input, target, this.current());
  }
}

/** The module form of {@link mseLoss}, like `torch.nn.MSELoss`. */
export class MSELoss extends Module {
  constructor(private readonly options: { reduction?: Reduction } = {}) {
    super();
  }

  forward(input: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return mseLoss(input, target, this.options);
  }
}

/**
 * The module form of {@link binaryCrossEntropyWithLogits}, like `torch.nn.BCEWithLogitsLoss` (its `weight` and
 * `pos_weight` are buffers, as in PyTorch).
 */
export class BCEWithLogitsLoss extends BufferedLoss<BCEWithLogitsOptions> {
  constructor(options: BCEWithLogitsOptions = {}) {
    super(
      "BCEWithLogitsLoss",
      options,
      ["reduction", "weight", "posWeight"],
      [
        ["weight", "weight"],
        ["posWeight", "pos_weight"],
      ],
    );
  }

  forward(input: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return binaryCrossEntropyWithLogits(input, target, this.current());
  }
}

/** The module form of {@link nllLoss}, like `torch.nn.NLLLoss` (its `weight` is a buffer, as in PyTorch). */
export class NLLLoss extends BufferedLoss<NLLLossOptions> {
  constructor(options: NLLLossOptions = {}) {
    super("NLLLoss", options, ["weight", "ignoreIndex", "reduction"]);
  }

  forward(input: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return nllLoss(input, target, this.current());
  }
}

/** The module form of {@link binaryCrossEntropy}, like `torch.nn.BCELoss` (its `weight` is a buffer). */
export class BCELoss extends BufferedLoss<BCELossOptions> {
  constructor(options: BCELossOptions = {}) {
    super("BCELoss", options, ["weight", "reduction"]);
  }

  forward(input: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return binaryCrossEntropy(input, target, this.current());
  }
}

/** The module form of {@link l1Loss}, like `torch.nn.L1Loss`. */
export class L1Loss extends Module {
  constructor(private readonly options: { reduction?: Reduction } = {}) {
    super();
    checkOptionNames("L1Loss", options, ["reduction"]);
  }

  forward(input: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return l1Loss(input, target, this.options);
  }
}

/** The module form of {@link smoothL1Loss}, like `torch.nn.SmoothL1Loss`. */
export class SmoothL1Loss extends Module {
  constructor(private readonly options: SmoothL1LossOptions = {}) {
    super();
    checkOptionNames("SmoothL1Loss", options, ["reduction", "beta"]);
  }

  forward(input: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return smoothL1Loss(input, target, this.options);
  }
}

/** The module form of {@link huberLoss}, like `torch.nn.HuberLoss`. */
export class HuberLoss extends Module {
  constructor(private readonly options: HuberLossOptions = {}) {
    super();
    checkOptionNames("HuberLoss", options, ["reduction", "delta"]);
  }

  forward(input: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return huberLoss(input, target, this.options);
  }
}

/** The module form of {@link klDiv}, like `torch.nn.KLDivLoss`. */
export class KLDivLoss extends Module {
  constructor(private readonly options: KLDivOptions = {}) {
    super();
    checkOptionNames("KLDivLoss", options, ["reduction", "logTarget"]);
  }

  forward(input: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return klDiv(input, target, this.options);
  }
}

/** The module form of {@link cosineEmbeddingLoss}, like `torch.nn.CosineEmbeddingLoss`. */
export class CosineEmbeddingLoss extends Module {
  constructor(private readonly options: CosineEmbeddingLossOptions = {}) {
    super();
    checkOptionNames("CosineEmbeddingLoss", options, ["reduction", "margin"]);
  }

  forward(input1: tf.Tensor, input2: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return cosineEmbeddingLoss(input1, input2, target, this.options);
  }
}

/** The module form of {@link marginRankingLoss}, like `torch.nn.MarginRankingLoss`. */
export class MarginRankingLoss extends Module {
  constructor(private readonly options: MarginRankingLossOptions = {}) {
    super();
    checkOptionNames("MarginRankingLoss", options, ["reduction", "margin"]);
  }

  forward(input1: tf.Tensor, input2: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return marginRankingLoss(input1, input2, target, this.options);
  }
}

/** The module form of {@link tripletMarginLoss}, like `torch.nn.TripletMarginLoss`. */
export class TripletMarginLoss extends Module {
  constructor(private readonly options: TripletMarginLossOptions = {}) {
    super();
    checkOptionNames("TripletMarginLoss", options, ["reduction", "margin", "p", "eps", "swap"]);
  }

  forward(anchor: tf.Tensor, positive: tf.Tensor, negative: tf.Tensor): tf.Tensor {
    return tripletMarginLoss(anchor, positive, negative, this.options);
  }
}

/** The module form of {@link ctcLoss}, like `torch.nn.CTCLoss`. */
export class CTCLoss extends Module {
  constructor(private readonly options: CTCLossOptions = {}) {
    super();
    checkOptionNames("CTCLoss", options, ["blank", "reduction", "zeroInfinity"]);
  }

  forward(logProbs: tf.Tensor, targets: tf.Tensor, inputLengths: Lengths, targetLengths: Lengths): tf.Tensor {
    return ctcLoss(logProbs, targets, inputLengths, targetLengths, this.options);
  }
}

/** The module form of {@link softMarginLoss}, like `torch.nn.SoftMarginLoss`. */
export class SoftMarginLoss extends Module {
  constructor(private readonly options: SoftMarginLossOptions = {}) {
    super();
    checkOptionNames("SoftMarginLoss", options, ["reduction"]);
  }

  forward(input: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return softMarginLoss(input, target, this.options);
  }
}

/**
 * The module form of {@link multilabelSoftMarginLoss}, like `torch.nn.MultiLabelSoftMarginLoss` (its `weight`
 * is a buffer, as in PyTorch).
 */
export class MultiLabelSoftMarginLoss extends BufferedLoss<MultiLabelSoftMarginLossOptions> {
  constructor(options: MultiLabelSoftMarginLossOptions = {}) {
    super("MultiLabelSoftMarginLoss", options, ["weight", "reduction"]);
  }

  forward(input: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return multilabelSoftMarginLoss(input, target, this.current());
  }
}

/**
 * The module form of {@link multiMarginLoss}, like `torch.nn.MultiMarginLoss` (its `weight` is a buffer, as in
 * PyTorch); `p` and `weight` are checked at construction, as PyTorch checks them.
 */
export class MultiMarginLoss extends BufferedLoss<MultiMarginLossOptions> {
  constructor(options: MultiMarginLossOptions = {}) {
    super("MultiMarginLoss", options, ["p", "margin", "weight", "reduction"]);
    const owner = "MultiMarginLoss";
    checkNumber(
      owner,
      "p",
      options.p ?? 1,
      (v) => v === 1 || v === 2,
      "1 or 2 (PyTorch supports only p == 1 and p == 2)",
    );
    checkNumber(owner, "margin", options.margin ?? 1, Number.isFinite, "a finite number");
    if (options.weight !== undefined && options.weight.rank !== 1) {
      throw new FulmenError(
        `${owner}: weight must be one-dimensional, one weight per class, got [${options.weight.shape}]; reshape it to [C].`,
      );
    }
  }

  forward(input: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return multiMarginLoss(input, target, this.current());
  }
}

/** The module form of {@link multilabelMarginLoss}, like `torch.nn.MultiLabelMarginLoss`. */
export class MultiLabelMarginLoss extends Module {
  constructor(private readonly options: MultiLabelMarginLossOptions = {}) {
    super();
    checkOptionNames("MultiLabelMarginLoss", options, ["reduction"]);
  }

  forward(input: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return multilabelMarginLoss(input, target, this.options);
  }
}

/** The module form of {@link hingeEmbeddingLoss}, like `torch.nn.HingeEmbeddingLoss`. */
export class HingeEmbeddingLoss extends Module {
  constructor(private readonly options: HingeEmbeddingLossOptions = {}) {
    super();
    checkOptionNames("HingeEmbeddingLoss", options, ["margin", "reduction"]);
  }

  forward(input: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return hingeEmbeddingLoss(input, target, this.options);
  }
}

/** The module form of {@link poissonNllLoss}, like `torch.nn.PoissonNLLLoss`. */
export class PoissonNLLLoss extends Module {
  constructor(private readonly options: PoissonNLLLossOptions = {}) {
    super();
    checkOptionNames("PoissonNLLLoss", options, ["logInput", "full", "eps", "reduction"]);
  }

  forward(input: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return poissonNllLoss(input, target, this.options);
  }
}

/** The module form of {@link gaussianNllLoss}, like `torch.nn.GaussianNLLLoss`: `forward(input, target, var)`. */
export class GaussianNLLLoss extends Module {
  constructor(private readonly options: GaussianNLLLossOptions = {}) {
    super();
    checkOptionNames("GaussianNLLLoss", options, ["full", "eps", "reduction"]);
  }

  forward(input: tf.Tensor, target: tf.Tensor, variance: tf.Tensor): tf.Tensor {
    return gaussianNllLoss(input, target, variance, this.options);
  }
}

/**
 * The module form of {@link tripletMarginWithDistanceLoss}, like `torch.nn.TripletMarginWithDistanceLoss`
 * (without a `distanceFunction`, PyTorch's pairwise distance).
 */
export class TripletMarginWithDistanceLoss extends Module {
  constructor(private readonly options: TripletMarginWithDistanceLossOptions = {}) {
    super();
    checkOptionNames("TripletMarginWithDistanceLoss", options, [
      "distanceFunction",
      "margin",
      "swap",
      "reduction",
    ]);
  }

  forward(anchor: tf.Tensor, positive: tf.Tensor, negative: tf.Tensor): tf.Tensor {
    return tripletMarginWithDistanceLoss(anchor, positive, negative, this.options);
  }
}
