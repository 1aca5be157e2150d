# Turns js/prelude.js into a C++ source defining js::kPreludeSource (a raw string literal).
file(READ ${IN} PRELUDE)
string(FIND "${PRELUDE}" ")edgesim_prelude\"" CLASH)
if(NOT CLASH EQUAL -1)
  message(FATAL_ERROR "prelude.js contains the raw-string delimiter")
endif()
file(WRITE ${OUT} "// Generated from platform/js/prelude.js by embed_prelude.cmake. Do not edit.\n"
  "namespace js {\nextern const char kPreludeSource[];\n"
  "const char kPreludeSource[] = R\"edgesim_prelude(${PRELUDE})edgesim_prelude\";\n}  // namespace js\n")
