import { processWide } from "./process-wide";
import { tf } from "./tfjs";

/**
 * What a tfjs backend runs well beyond what every backend runs, declared by the plugin that registers it, so that
 * core's layers choose the cheaper formulation there and tfjs's portable one elsewhere. Both give the same values.
 */
export interface BackendFeatures {
  /**
   * Conv2D and its gradients take `dataFormat: "NCHW"` natively, and 2-D pooling of one-channel NHWC tensors runs
   * about as fast as of many channels. Core's NCHW layers (`nn.Conv2d`, `nn.MaxPool2d`, `nn.AvgPool2d`) then skip
   * the transposes to tfjs's NHWC and back (pooling runs on `[N·C, H, W, 1]`, a reshape).
   */
  channelsFirst: boolean;
}

const NONE: Readonly<BackendFeatures> = Object.freeze({ channelsFirst: false });
// One per process: the plugin that declares a backend's features may have loaded another build of core than the
// layers that read them.
const declared = processWide(
  "runtime/backend-features@1",
  () => new Map<string, Readonly<BackendFeatures>>(),
);

/** Declares what the backend registered as `backendName` runs natively (its plugin calls this when registering it). */
export function declareBackendFeatures(backendName: string, features: Partial<BackendFeatures>): void {
  declared.set(backendName, Object.freeze({ ...NONE, ...declared.get(backendName), ...features }));
}

/** What the backend (by default the current one) declared; no feature for a backend no plugin described. */
export function backendFeatures(backendName: string = tf.getBackend()): Readonly<BackendFeatures> {
  return declared.get(backendName) ?? NONE;
}
