# The native sources of @fulmen/accelerator-cuda's addons, listed once: binding.gyp includes this file, and the
# tests that build a variant themselves (the AddressSanitizer build of the CUDA emulator) read it as JSON. The
# host engine's kernels, which the device backend over host memory also runs, are listed in
# @fulmen/accelerator-host's sources.gypi (native/host-engine.cjs reads them from there).
{
  "variables": {
    "host_memory_device_sources": [
      "native/device/host_memory_device_addon.cc",
      "native/device/host_memory_engine.cc"
    ],
    "device_napi_sources": [
      "native/device/device_napi.cc",
      "native/device/device_napi_math.cc",
      "native/device/device_napi_layers.cc",
      "native/device/device_napi_movement.cc"
    ],
    "emulation_sources": [
      "native/cuda_engine_addon.cc",
      "native/cuda/cuda_engine.cc",
      "native/cuda/cublas_loader.cc",
      "native/emulation/cuda_emulation.cc",
      "native/emulation/cublas_emulation.cc",
      "native/emulation/elementwise_kernels.cc",
      "native/emulation/data_kernels.cc",
      "native/emulation/layer_norm_kernels.cc",
      "native/emulation/movement_kernels.cc",
      "native/emulation/conv_pool_kernels.cc",
      "native/emulation/optimizer_kernels.cc",
      "native/emulation/gemm_kernels.cc"
    ],
    "cuda_engine_sources": [
      "native/cuda_engine_addon.cc",
      "native/cuda/cuda_engine.cc",
      "native/cuda/cublas_loader.cc",
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
