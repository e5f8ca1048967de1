{
  "targets": [
    {
      "target_name": "shared_copy",
      "sources": ["shared_copy.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags!": ["-O3"],
      "cflags": ["-O2", "-std=c11", "-Wall", "-Wextra"]
    }
  ]
}
