{
  "targets": [
    {
      "target_name": "fulmen_gloo",
      "sources": ["native/addon.cc", "native/group.cc", "native/tcp_store.cc", "native/wire.cc",
                  "native/store_auth.cc", "native/store_listen.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++14", "-std=gnu++17"],
      "libraries": ["-lgloo", "-lpthread", "-ldl"],
      # $ORIGIN as DT_RPATH (which, unlike RUNPATH, also serves the libraries' own dependencies): the prebuilt addon
      # finds libgloo and what it links, packed beside it (fulmen-build-native --prebuild).
      "ldflags": ["-Wl,--disable-new-dtags", "-Wl,-rpath,'$$ORIGIN'"]
    }
  ]
}
