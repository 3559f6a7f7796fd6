// The GPU engine's N-API entry point, shared by its addon (cuda_engine_addon.cc) and by the builds that run the same
// engine on the host CUDA emulator (the repository's @fulmen/cuda-testbed).
#pragma once

#include <napi.h>

namespace fulmen {

/** createCudaDevice(ordinal) → a device engine on that GPU; throws naming the CUDA error when it cannot be used. */
Napi::Value createCudaDevice(const Napi::CallbackInfo& info);

}  // namespace fulmen
