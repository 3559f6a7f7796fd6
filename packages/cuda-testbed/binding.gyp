{
  "includes": ["sources.gypi"],
  "variables": {
    "host_native%": "<!(node native/package-sources.cjs include @fulmen/accelerator-host)",
    "cuda_native%": "<!(node native/package-sources.cjs include @fulmen/accelerator-cuda)"
  },
  "targets": [
    {
      "target_name": "fulmen_cuda_testbed",
      "sources": [
        "<@(testbed_sources)",
        "<!@(node native/package-sources.cjs sources @fulmen/accelerator-cuda cuda_engine_host_sources device_napi_sources)",
        "<!@(node native/package-sources.cjs sources @fulmen/accelerator-host host_kernel_sources)"
      ],
      "include_dirs": ["native", "<(cuda_native)", "<(host_native)"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["FULMEN_CUDA_EMULATION"],
      "cflags_cc": ["-std=c++20", "-O2", "-fexceptions", "-pthread", "-ffp-contract=off", "-fno-math-errno"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++14", "-std=gnu++17"],
      "libraries": ["-lopenblas", "-pthread", "-ldl"]
    }
  ]
}
