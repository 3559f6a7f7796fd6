import { followInputOp } from "../../amp/autocast";
import { tf } from "../../runtime/tfjs";
import { backendHasKernels, fusedGelu, GELU_GRAD_KERNEL, GELU_KERNEL } from "../fused-kernels";
import { Module } from "../module";

/** `max(0, x)`, like `torch.nn.ReLU`. */
export class ReLU extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return followInputOp(tf.relu, x);
  }
}

/** The hyperbolic tangent, like `torch.nn.Tanh`. */
export class Tanh extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return followInputOp(tf.tanh, x);
  }
}

/** The logistic sigmoid, like `torch.nn.Sigmoid`. */
export class Sigmoid extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return followInputOp(tf.sigmoid, x);
  }
}

/**
 * The Gaussian error linear unit, like `torch.nn.GELU`: exact (`x·Φ(x)`, via erf) by default, or PyTorch's
 * tanh approximation with `approximate: "tanh"`.
 */
export class GELU extends Module {
  readonly approximate: "none" | "tanh";

  constructor(options: { approximate?: "none" | "tanh" } = {}) {
    super();
    this.approximate = options.approximate ?? "none";
  }

  forward(x: tf.Tensor): tf.Tensor {
    return followInputOp((v) => this.gelu(v), x);
  }

  private gelu(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      if (this.approximate === "tanh") {
        const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
        return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
      }
      if (x.dtype === "float32" && backendHasKernels(GELU_KERNEL, GELU_GRAD_KERNEL)) return fusedGelu(x);
      return tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
    });
  }

  protected override extraRepr(): string {
    return `approximate='${this.approximate}'`;
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
    readonly startDim = 1,
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
