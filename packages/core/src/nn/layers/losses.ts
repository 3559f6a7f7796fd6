import type { tf } from "../../runtime/tfjs";
import {
  type BCEWithLogitsOptions,
  binaryCrossEntropyWithLogits,
  type CrossEntropyOptions,
  crossEntropy,
  mseLoss,
  type Reduction,
} from "../functional/losses";
import { Module } from "../module";

/** The module form of {@link crossEntropy}, like `torch.nn.CrossEntropyLoss`. */
export class CrossEntropyLoss extends Module {
  constructor(private readonly options: CrossEntropyOptions = {}) {
    super();
  }

  forward(input: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return crossEntropy(input, target, this.options);
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

/** The module form of {@link binaryCrossEntropyWithLogits}, like `torch.nn.BCEWithLogitsLoss`. */
export class BCEWithLogitsLoss extends Module {
  constructor(private readonly options: BCEWithLogitsOptions = {}) {
    super();
  }

  forward(input: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return binaryCrossEntropyWithLogits(input, target, this.options);
  }
}
