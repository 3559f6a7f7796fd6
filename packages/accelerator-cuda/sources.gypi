# The native sources of @fulmen/accelerator-cuda's addons, listed once: binding.gyp includes this file, and what
# builds a variant (the private @fulmen/cuda-testbed's CUDA emulator, its AddressSanitizer build) reads it as
# JSON. The kernels' shared headers are @fulmen/accelerator-host's (native/host-engine.cjs finds them).
{
  "variables": {
    "device_napi_sources": [
      "native/device/device_napi.cc",
      "native/device/device_napi_math.cc",
      "native/device/device_napi_layers.cc",
      "native/device/device_napi_movement.cc"
    ],
    "cuda_engine_host_sources": [
      "native/cuda/cuda_engine_napi.cc",
      "native/cuda/cuda_engine.cc",
      "native/cuda/cublas_loader.cc"
    ],
    "cuda_kernel_sources": [
      "native/cuda/elementwise_kernels.cu",
      "native/cuda/data_kernels.cu",
      "native/cuda/layer_norm_kernels.cu",
      "native/cuda/movement_kernels.cu",
      "native/cuda/conv_pool_kernels.cu",
      "native/cuda/optimizer_kernels.cu",
      "native/cuda/gemm_kernels.cu"
    ],
    "cuda_probe_sources": [
      "native/cuda_probe.cc",
      "native/cuda/cublas_loader.cc"
    ]
  }
}
