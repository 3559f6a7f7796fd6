// Splitting element-wise work over the host engine's share of the cores.
#pragma once

#include <cstdint>
#include <functional>

namespace fulmen {

/**
 * How many threads element-wise kernels may use (the same share of the cores as OpenBLAS gets). Waits for a
 * running parallelFor to finish first (so never call it from inside a chunk); stops the old workers and starts
 * new ones.
 */
void setParallelThreads(int threads);

/**
 * Runs fn(begin, end) over [0, n) in as many equal chunks as there are threads, each at least `grain` items
 * (fewer chunks when n is small); the calling thread takes the first chunk and returns when all are done. The
 * workers sleep between calls (no spinning: on a machine this small a spinning worker steals the core another
 * process or OpenBLAS needs).
 * Safe from any thread: one split call runs at a time (others wait), and a call made from inside a chunk runs its
 * work on its own thread (work too small to split runs without holding the pool, so it may split work itself). An
 * exception thrown by a chunk reaches the caller once every chunk has finished. A child process made by fork()
 * gets a new pool of the same size on its first call.
 */
void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace fulmen
