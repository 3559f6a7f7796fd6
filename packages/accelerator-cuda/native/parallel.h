// Splitting element-wise work over the host engine's share of the cores.
#pragma once

#include <cstdint>
#include <functional>

namespace fulmen {

/** How many threads element-wise kernels may use (the same share of the cores as OpenBLAS gets). */
void setParallelThreads(int threads);

/**
 * Runs fn(begin, end) over [0, n) in as many equal chunks as there are threads, each at least `grain` items
 * (fewer chunks when n is small); the calling thread takes the first chunk and returns when all are done. The
 * workers sleep between calls (no spinning: on a machine this small a spinning worker steals the core another
 * process or OpenBLAS needs).
 */
void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace fulmen
