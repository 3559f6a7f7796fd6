# The test bed's own native sources, listed once: binding.gyp includes this file, and the AddressSanitizer build
# (test/gpu-proof.test.ts) reads it as JSON. The rest of its addon comes from the packages it tests, by their own
# lists (native/package-sources.cjs).
{
  "variables": {
    "testbed_sources": [
      "native/testbed_addon.cc",
      "native/device/host_memory_engine.cc",
      "native/emulation/cuda_emulation.cc",
      "native/emulation/cublas_emulation.cc",
      "native/emulation/elementwise_kernels.cc",
      "native/emulation/data_kernels.cc",
      "native/emulation/layer_norm_kernels.cc",
      "native/emulation/movement_kernels.cc",
      "native/emulation/conv_pool_kernels.cc",
      "native/emulation/optimizer_kernels.cc",
      "native/emulation/gemm_kernels.cc"
    ]
  }
}
