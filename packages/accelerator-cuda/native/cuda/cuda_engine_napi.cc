#include "cuda_engine_napi.h"

#include <stdexcept>
#include <string>

#include "../device/device_napi.h"
#include "cuda_engine.h"

namespace fulmen {

Napi::Value createCudaDevice(const Napi::CallbackInfo& info) {
  const int ordinal = info.Length() > 0 ? info[0].As<Napi::Number>().Int32Value() : 0;
  try {
    return wrapDeviceEngine(info.Env(), makeCudaEngine(ordinal));
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string("cuda:") + std::to_string(ordinal) + ": " + e.what());
  }
}

}  // namespace fulmen
