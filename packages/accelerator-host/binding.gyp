{
  "includes": ["sources.gypi"],
  "targets": [
    {
      "target_name": "fulmen_engine",
      "sources": ["native/engine_addon.cc", "<@(host_kernel_sources)"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++14", "-std=gnu++17"],
      "libraries": ["<!@(node native/openblas.cjs)"]
    }
  ]
}
