#pragma once

// Hot loops are compiled three times, for AVX-512, AVX2 and any x86-64, and the loader picks one for this CPU (GCC's
// function multi-versioning), so an addon built on one machine still runs on an older one.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FULMEN_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FULMEN_VECTOR_CLONES
#endif
