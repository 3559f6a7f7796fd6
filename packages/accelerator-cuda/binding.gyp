{
  "variables": {
    "cuda_home%": "<!(node -p \"require('fs').existsSync('/usr/local/cuda/include/cuda_runtime_api.h') && require('fs').existsSync('/usr/local/cuda/lib64/libcudart_static.a') ? '/usr/local/cuda' : ''\")",
    "nvcc%": "<!(node -p \"require('fs').existsSync('/usr/local/cuda/bin/nvcc') && require('fs').existsSync('/usr/local/cuda/lib64/libcudart_static.a') ? '/usr/local/cuda/bin/nvcc' : ''\")"
  },
  "targets": [
    {
      "target_name": "fulmen_engine",
      "sources": [
        "native/engine_addon.cc",
        "native/gemm_host.cc",
        "native/elementwise_host.cc",
        "native/conv_host.cc",
        "native/pool_host.cc",
        "native/transpose_host.cc",
        "native/rows_host.cc",
        "native/optimizer_host.cc",
        "native/fused_layers_host.cc",
        "native/parallel_host.cc",
        "native/device/device_napi.cc",
        "native/device/device_napi_math.cc",
        "native/device/device_napi_layers.cc",
        "native/device/device_napi_movement.cc",
        "native/device/host_memory_engine.cc"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++14", "-std=gnu++17"],
      "libraries": ["-lopenblas"]
    },
    {
      "target_name": "fulmen_cuda_emulation",
      "sources": [
        "native/cuda_engine_addon.cc",
        "native/device/device_napi.cc",
        "native/device/device_napi_math.cc",
        "native/device/device_napi_layers.cc",
        "native/device/device_napi_movement.cc",
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
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["FULMEN_CUDA_EMULATION"],
      "cflags_cc": ["-std=c++20", "-O2", "-fexceptions", "-pthread", "-ffp-contract=off", "-fno-math-errno"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++14", "-std=gnu++17"],
      "libraries": ["-pthread", "-ldl"]
    }
  ],
  "conditions": [
    [
      "cuda_home!=''",
      {
        "targets": [
          {
            "target_name": "fulmen_cuda_probe",
            "sources": ["native/cuda_probe.cc", "native/cuda/cublas_loader.cc"],
            "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
            "include_dirs": ["<(cuda_home)/include"],
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
              "native/device/device_napi.cc",
              "native/device/device_napi_math.cc",
              "native/device/device_napi_layers.cc",
              "native/device/device_napi_movement.cc",
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
            "rules": [
              {
                "rule_name": "nvcc",
                "extension": "cu",
                "outputs": ["<(INTERMEDIATE_DIR)/<(RULE_INPUT_ROOT).o"],
                "action": [
                  "<(nvcc)", "-std=c++17", "-O3", "--fmad=false", "-Xcompiler", "-fPIC",
                  "-gencode", "arch=compute_80,code=sm_80",
                  "-gencode", "arch=compute_90,code=sm_90",
                  "-gencode", "arch=compute_90,code=compute_90",
                  "-c", "<(RULE_INPUT_PATH)", "-o", "<@(_outputs)"
                ],
                "message": "nvcc <(RULE_INPUT_PATH)",
                "process_outputs_as_sources": 1
              }
            ],
            "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
            "include_dirs": ["<(cuda_home)/include"],
            "cflags_cc": ["-std=c++17", "-O2", "-fexceptions"],
            "cflags_cc!": ["-fno-exceptions", "-std=gnu++14", "-std=gnu++17"],
            "libraries": ["<(cuda_home)/lib64/libcudart_static.a", "-ldl", "-lpthread", "-lrt"]
          }
        ]
      }
    ]
  ]
}
