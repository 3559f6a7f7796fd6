{
  "targets": [
    {
      "target_name": "fulmen_engine",
      "sources": ["native/engine_addon.cc", "native/gemm_host.cc", "native/elementwise_host.cc", "native/conv_host.cc", "native/pool_transpose_host.cc", "native/rows_host.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++14", "-std=gnu++17"],
      "libraries": ["-lopenblas"]
    }
  ]
}
