{
  "includes": ["sources.gypi"],
  "variables": {
    "cuda_home%": "<!(node native/cuda-toolkit.cjs home)",
    "nvcc%": "<!(node native/cuda-toolkit.cjs nvcc)",
    "host_native%": "<!(node native/host-engine.cjs include)"
  },
  "conditions": [
    [
      "cuda_home!=''",
      {
        "targets": [
          {
            "target_name": "fulmen_cuda_probe",
            "sources": ["<@(cuda_probe_sources)"],
            "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
            "include_dirs": ["<(cuda_home)/include", "<(host_native)"],
            "cflags_cc": ["-std=c++17", "-O2", "-fexceptions"],
            "cflags_cc!": ["-fno-exceptions", "-std=gnu++14", "-std=gnu++17"],
            "libraries": ["<(cuda_home)/lib64/libcudart_static.a", "-ldl", "-lpthread", "-lrt"]
          }
        ]
      }
    ],
    [
      "nvcc!=''",
      {
        "targets": [
          {
            "target_name": "fulmen_cuda_engine",
            "sources": [
              "native/cuda_engine_addon.cc",
              "<@(cuda_engine_host_sources)",
              "<@(cuda_kernel_sources)",
              "<@(device_napi_sources)"
            ],
            "rules": [
              {
                "rule_name": "nvcc",
                "extension": "cu",
                "outputs": ["<(INTERMEDIATE_DIR)/<(RULE_INPUT_ROOT).o"],
                "action": [
                  "<(nvcc)", "-std=c++17", "-O3", "--fmad=false", "-Xcompiler", "-fPIC", "-I<(host_native)",
                  "<!@(node native/cuda-toolkit.cjs gencode)",
                  "-c", "<(RULE_INPUT_PATH)", "-o", "<@(_outputs)"
                ],
                "message": "nvcc <(RULE_INPUT_PATH)",
                "process_outputs_as_sources": 1
              }
            ],
            "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
            "include_dirs": ["<(cuda_home)/include", "<(host_native)"],
            "cflags_cc": ["-std=c++17", "-O2", "-fexceptions"],
            "cflags_cc!": ["-fno-exceptions", "-std=gnu++14", "-std=gnu++17"],
            "libraries": ["<(cuda_home)/lib64/libcudart_static.a", "-ldl", "-lpthread", "-lrt"]
          }
        ]
      }
    ]
  ]
}
