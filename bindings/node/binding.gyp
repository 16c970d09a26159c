# node-gyp build of the N-API addon. Builds against the Node headers under
# /usr (node-gyp --nodedir=/usr: nothing is downloaded) and links the
# installed libreplyguard found with pkg-config. The repository's `make`
# overrides the variables to build against the build tree instead
# (scripts/build-node-addon.sh).
{
  "variables": {
    "rg_cflags%": "<!(pkg-config --cflags replyguard 2>/dev/null || true)",
    "rg_libs%": "<!(pkg-config --libs replyguard 2>/dev/null || echo -lreplyguard)",
    "rg_libdir%": "<!(pkg-config --variable=libdir replyguard 2>/dev/null || echo /usr/local/lib)"
  },
  "targets": [
    {
      "target_name": "replyguard",
      "sources": ["src/addon.c"],
      "cflags": ["<@(rg_cflags)", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["_GNU_SOURCE"],
      "libraries": ["<@(rg_libs)", "-Wl,-rpath,<(rg_libdir)"]
    }
  ]
}
