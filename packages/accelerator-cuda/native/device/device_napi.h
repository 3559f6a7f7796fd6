// The JavaScript face of a DeviceEngine, shared by the host build's addon and the GPU build's.
#pragma once

#include <napi.h>

#include <memory>

#include "device_engine.h"

namespace fulmen {

/** A JavaScript object that owns `engine`; its methods take blocks as numbers (addresses) and check each one. */
Napi::Object wrapDeviceEngine(Napi::Env env, std::unique_ptr<DeviceEngine> engine);

}  // namespace fulmen
