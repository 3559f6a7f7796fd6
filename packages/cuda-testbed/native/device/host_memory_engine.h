#pragma once

#include <memory>

#include "device/device_engine.h"

namespace fulmen {

/** A device engine over host memory with the host build's kernels (the device backend's CI stand-in for a GPU). */
std::unique_ptr<DeviceEngine> makeHostMemoryEngine();

}  // namespace fulmen
