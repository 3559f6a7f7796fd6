# The host build's kernel sources, listed once: binding.gyp includes this file (the engine's addon is these and
# native/engine_addon.cc), and the packages that compile the same kernels into an addon of their own
# (@fulmen/accelerator-cuda's device backend over host memory) include it too, as the tests that build a variant
# read it as JSON.
{
  "variables": {
    "host_kernel_sources": [
      "native/gemm_host.cc",
      "native/elementwise_host.cc",
      "native/conv_host.cc",
      "native/pool_host.cc",
      "native/transpose_host.cc",
      "native/rows_host.cc",
      "native/optimizer_host.cc",
      "native/fused_layers_host.cc",
      "native/rnn_host.cc",
      "native/rnn_sequence_host.cc",
      "native/attention_host.cc",
      "native/parallel_host.cc"
    ]
  }
}
