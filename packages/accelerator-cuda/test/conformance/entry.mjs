// tfjs-core's own backend conformance specs, run against the native engine's host backend. esbuild bundles
// this file (tfjs-core's test modules are extensionless ESM), jasmine runs it. Prints one JSON line of totals.
import Jasmine from "jasmine";
import {
  CUDA_BACKEND,
  CudaAccelerator,
  HOST_BACKEND,
  HostAccelerator,
  registerHostMemoryDeviceBackend,
} from "../../src/index";

const runner = new Jasmine();
runner.exitOnCompletion = false;
runner.env.configure({ random: false });
const { setTestEnvs } = await import("@tensorflow/tfjs-core/dist/jasmine_util");
// FULMEN_CONFORMANCE: "device" (the GPU engine's backend over host memory), "cuda" (the GPU engine on a GPU), or
// the host engine.
const target = process.env.FULMEN_CONFORMANCE ?? "host";
await new HostAccelerator().setup();
if (target === "cuda") await new CudaAccelerator().setup();
const backendName = { device: registerHostMemoryDeviceBackend(), cuda: CUDA_BACKEND }[target] ?? HOST_BACKEND;
setTestEnvs([{ name: target, backendName, isDataSync: true }]);
const failures = [];
let passed = 0;
runner.env.addReporter({
  specDone(result) {
    if (result.status === "passed") passed++;
    else if (result.status === "failed")
      failures.push(`${result.fullName}: ${result.failedExpectations.map((f) => f.message).join("; ")}`);
  },
});
// The spec files of the kernels the engine implements, imported after jasmine's globals exist (esbuild keeps
// these imports lazy, in this order).
await Promise.all([
  import("@tensorflow/tfjs-core/dist/ops/add_test"),
  import("@tensorflow/tfjs-core/dist/ops/sub_test"),
  import("@tensorflow/tfjs-core/dist/ops/arithmetic_test"),
  import("@tensorflow/tfjs-core/dist/ops/binary_ops_test"),
  import("@tensorflow/tfjs-core/dist/ops/abs_test"),
  import("@tensorflow/tfjs-core/dist/ops/exp_test"),
  import("@tensorflow/tfjs-core/dist/ops/log_test"),
  import("@tensorflow/tfjs-core/dist/ops/neg_test"),
  import("@tensorflow/tfjs-core/dist/ops/relu_test"),
  import("@tensorflow/tfjs-core/dist/ops/rsqrt_test"),
  import("@tensorflow/tfjs-core/dist/ops/sigmoid_test"),
  import("@tensorflow/tfjs-core/dist/ops/sqrt_test"),
  import("@tensorflow/tfjs-core/dist/ops/square_test"),
  import("@tensorflow/tfjs-core/dist/ops/step_test"),
  import("@tensorflow/tfjs-core/dist/ops/tanh_test"),
  import("@tensorflow/tfjs-core/dist/ops/sum_test"),
  import("@tensorflow/tfjs-core/dist/ops/mean_test"),
  import("@tensorflow/tfjs-core/dist/ops/mat_mul_test"),
  import("@tensorflow/tfjs-core/dist/ops/conv2d_test"),
  import("@tensorflow/tfjs-core/dist/ops/conv2d_transpose_test"),
  import("@tensorflow/tfjs-core/dist/ops/transpose_test"),
  import("@tensorflow/tfjs-core/dist/ops/max_pool_test"),
  import("@tensorflow/tfjs-core/dist/ops/pool_test"),
  import("@tensorflow/tfjs-core/dist/ops/softmax_test"),
  import("@tensorflow/tfjs-core/dist/ops/split_test"),
  import("@tensorflow/tfjs-core/dist/ops/unsorted_segment_sum_test"),
  import("@tensorflow/tfjs-core/dist/ops/erf_test"),
  import("@tensorflow/tfjs-core/dist/ops/gather_test"),
  import("@tensorflow/tfjs-core/dist/ops/concat_test"),
  import("@tensorflow/tfjs-core/dist/ops/greater_test"),
  import("@tensorflow/tfjs-core/dist/ops/greater_equal_test"),
  import("@tensorflow/tfjs-core/dist/ops/less_test"),
  import("@tensorflow/tfjs-core/dist/ops/less_equal_test"),
  import("@tensorflow/tfjs-core/dist/ops/equal_test"),
  import("@tensorflow/tfjs-core/dist/ops/not_equal_test"),
  import("@tensorflow/tfjs-core/dist/ops/where_test"),
  import("@tensorflow/tfjs-core/dist/ops/clip_by_value_test"),
  import("@tensorflow/tfjs-core/dist/ops/add_n_test"),
  import("@tensorflow/tfjs-core/dist/ops/max_test"),
  import("@tensorflow/tfjs-core/dist/ops/min_test"),
  import("@tensorflow/tfjs-core/dist/tensor_test"),
  import("@tensorflow/tfjs-core/dist/ops/one_hot_test"),
  import("@tensorflow/tfjs-core/dist/ops/slice_test"),
  import("@tensorflow/tfjs-core/dist/ops/fill_test"),
  import("@tensorflow/tfjs-core/dist/ops/zeros_like_test"),
  import("@tensorflow/tfjs-core/dist/ops/ones_like_test"),
  import("@tensorflow/tfjs-core/dist/ops/arg_max_test"),
  import("@tensorflow/tfjs-core/dist/ops/avg_pool_test"),
  import("@tensorflow/tfjs-core/dist/ops/clone_test"),
  import("@tensorflow/tfjs-core/dist/ops/range_test"),
]);
await runner.execute();
console.log(JSON.stringify({ passed, failed: failures.length, failures: failures.slice(0, 100) }));
