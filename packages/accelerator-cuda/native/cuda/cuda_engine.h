#pragma once

#include <memory>

#include "../device/device_engine.h"

namespace fulmen {

/**
 * The device engine on CUDA GPU `ordinal`: a caching allocator over cudaMalloc, one non-blocking stream for every
 * kernel and copy, GEMMs on cuBLAS when it loads (else the engine's tiled kernel). Throws std::runtime_error naming
 * the CUDA error when the GPU cannot be used (no driver, no such device).
 */
std::unique_ptr<DeviceEngine> makeCudaEngine(int ordinal);

}  // namespace fulmen
