import { tf } from "../../runtime/tfjs";
import { checkOptionNames } from "../../utils/options";
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
  type HuberLossOptions,
  huberLoss,
  type KLDivOptions,
  klDiv,
  type Lengths,
  l1Loss,
  type MarginRankingLossOptions,
  marginRankingLoss,
  mseLoss,
  type NLLLossOptions,
  nllLoss,
  type Reduction,
  type SmoothL1LossOptions,
  smoothL1Loss,
  type TripletMarginLossOptions,
  tripletMarginLoss,
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
