import { tf } from "../../runtime/tfjs";
import { checkOptionNames } from "../../utils/options";
import * as F from "../functional/activations";
import { logsigmoid, softsign, tanhshrink } from "../functional/smooth-activations";
import { relu6 } from "../functional/threshold-activations";
import { Module } from "../module";

/** `max(0, x)`, like `torch.nn.ReLU`. */
export class ReLU extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return F.relu(x);
  }
}

/** `min(max(0, x), 6)`, like `torch.nn.ReLU6` (gradient 0 at 0 and 6, as PyTorch's). */
export class ReLU6 extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return relu6(x);
  }
}

/** `log(sigmoid(x))`, computed stably, like `torch.nn.LogSigmoid`. */
export class LogSigmoid extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return logsigmoid(x);
  }
}

/** `x / (1 + |x|)`, like `torch.nn.Softsign`. */
export class Softsign extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return softsign(x);
  }
}

/** `x − tanh(x)`, like `torch.nn.Tanhshrink`. */
export class Tanhshrink extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return tanhshrink(x);
  }
}

/** The hyperbolic tangent, like `torch.nn.Tanh`. */
export class Tanh extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return F.tanh(x);
  }
}

/** The logistic sigmoid, like `torch.nn.Sigmoid`. */
export class Sigmoid extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return F.sigmoid(x);
  }
}

/**
 * The Gaussian error linear unit, like `torch.nn.GELU`: exact (`x·Φ(x)`, via erf) by default, or PyTorch's
 * tanh approximation with `approximate: "tanh"`.
 */
export class GELU extends Module {
  /** `"none"`: exact `x·Φ(x)` via erf (default); `"tanh"`: PyTorch's tanh approximation. */
  readonly approximate: "none" | "tanh";

  constructor(options: F.GeluOptions = {}) {
    super();
    checkOptionNames("GELU", options, ["approximate"]);
    this.approximate = F.checkGeluApproximate("GELU", options.approximate);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return F.gelu(x, { approximate: this.approximate });
  }

  protected override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** `x·sigmoid(x)`, like `torch.nn.SiLU`. */
export class SiLU extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return F.silu(x);
  }
}

/** The scaled exponential linear unit, like `torch.nn.SELU`. */
export class SELU extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return F.selu(x);
  }
}

/** `x·tanh(softplus(x))`, like `torch.nn.Mish`. */
export class Mish extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return F.mish(x);
  }
}

/** `x·relu6(x + 3)/6`, like `torch.nn.Hardswish` (PyTorch's gradient at ±3). */
export class Hardswish extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return F.hardswish(x);
  }
}

/** `relu6(x + 3)/6`, like `torch.nn.Hardsigmoid` (PyTorch's gradient at ±3). */
export class Hardsigmoid extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return F.hardsigmoid(x);
  }
}

/** Passes its input through, like `torch.nn.Identity`. */
export class Identity extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return x;
  }
}

/** Flattens dimensions `startDim..endDim` into one, like `torch.nn.Flatten` (defaults 1 and -1). */
export class Flatten extends Module {
  constructor(
    /** The first dimension to flatten (default 1, keeping the batch dimension); negative counts from the end. */
    readonly startDim = 1,
    /** The last dimension to flatten, included (default -1, the last); negative counts from the end. */
    readonly endDim = -1,
  ) {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    const start = this.startDim < 0 ? x.rank + this.startDim : this.startDim;
    const end = this.endDim < 0 ? x.rank + this.endDim : this.endDim;
    const merged = x.shape.slice(start, end + 1).reduce((a, b) => a * b, 1);
    return tf.reshape(x, [...x.shape.slice(0, start), merged, ...x.shape.slice(end + 1)]);
  }
}
