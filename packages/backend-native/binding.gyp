{
  "targets": [
    {
      "target_name": "voxseg_native",
      "sources": [
        "src/native/addon.cc",
        "src/native/conv3d.cc",
        "src/native/matmul.cc",
        "src/native/elementwise.cc",
        "src/native/norm.cc",
        "src/native/conv3d-infer.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fno-trapping-math", "-fopenmp", "-fexceptions", "-Wall", "-Wno-unused-function"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl", "-lgomp"]
    }
  ]
}
