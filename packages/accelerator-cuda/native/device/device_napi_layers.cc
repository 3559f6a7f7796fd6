// The device object's layer norm, convolution, pooling and fused optimizer methods: arguments checked, then the engine's kernel.
#include "device_object.h"

namespace fulmen {
namespace device_napi {

// layerNorm(x, weight | null, bias | null, y, mean, rstd, rows, cols, eps)
Napi::Value DeviceObject::layerNorm(const Napi::CallbackInfo& info) {
  return guarded(info, "layerNorm", [&]() -> Napi::Value {
    const int64_t rows = integer(info, 6), cols = integer(info, 7);
    const size_t all = 4 * rows * cols;
    engine_->layerNorm(static_cast<const float*>(block(info, 0, all, "layerNorm")),
                       static_cast<const float*>(optionalBlock(info, 1, 4 * cols, "layerNorm")),
                       static_cast<const float*>(optionalBlock(info, 2, 4 * cols, "layerNorm")),
                       static_cast<float*>(block(info, 3, all, "layerNorm")),
                       static_cast<float*>(block(info, 4, 4 * rows, "layerNorm")),
                       static_cast<float*>(block(info, 5, 4 * rows, "layerNorm")), rows, cols,
                       info[8].As<Napi::Number>().DoubleValue());
    return info.Env().Undefined();
  });
}

// layerNormGrad(dy, x, mean, rstd, weight | null, dx, dWeight | null, dBias | null, rows, cols)
Napi::Value DeviceObject::layerNormGrad(const Napi::CallbackInfo& info) {
  return guarded(info, "layerNormGrad", [&]() -> Napi::Value {
    const int64_t rows = integer(info, 8), cols = integer(info, 9);
    const size_t all = 4 * rows * cols;
    engine_->layerNormGrad(static_cast<const float*>(block(info, 0, all, "layerNormGrad")),
                           static_cast<const float*>(block(info, 1, all, "layerNormGrad")),
                           static_cast<const float*>(block(info, 2, 4 * rows, "layerNormGrad")),
                           static_cast<const float*>(block(info, 3, 4 * rows, "layerNormGrad")),
                           static_cast<const float*>(optionalBlock(info, 4, 4 * cols, "layerNormGrad")),
                           static_cast<float*>(block(info, 5, all, "layerNormGrad")),
                           static_cast<float*>(optionalBlock(info, 6, 4 * cols, "layerNormGrad")),
                           static_cast<float*>(optionalBlock(info, 7, 4 * cols, "layerNormGrad")), rows, cols);
    return info.Env().Undefined();
  });
}

// conv2d(kind, first, second, out, shape[16]): 0 forward (x, filter), 1 input grad (dy, filter), 2 filter grad
// (x, dy); shape is native/conv.h's Conv2DShape in order.
Napi::Value DeviceObject::conv2d(const Napi::CallbackInfo& info) {
  return guarded(info, "conv2d", [&]() -> Napi::Value {
    const int64_t kind = integer(info, 0);
    const auto v = numbersOf(info, 4, 16, "conv2d");
    const Conv2DShape s{v[0], v[1], v[2], v[3], v[4],  v[5],  v[6],  v[7],
                        v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15]};
    if (s.strideH == 0 || s.strideW == 0) throw Napi::RangeError::New(info.Env(), "conv2d: zero stride");
    const size_t x = 4 * s.batch * s.inH * s.inW * s.inC, y = 4 * s.batch * s.outH * s.outW * s.outC;
    const size_t filter = 4 * s.fH * s.fW * s.inC * s.outC;
    const size_t sizes[3][3] = {{x, filter, y}, {y, filter, x}, {x, y, filter}};
    if (kind < 0 || kind > 2) throw Napi::RangeError::New(info.Env(), "conv2d: kind must be 0, 1 or 2");
    const auto& z = sizes[kind];
    engine_->conv2d(static_cast<int>(kind), static_cast<const float*>(block(info, 1, z[0], "conv2d")),
                    static_cast<const float*>(block(info, 2, z[1], "conv2d")),
                    static_cast<float*>(block(info, 3, z[2], "conv2d")), s);
    return info.Env().Undefined();
  });
}

// pool(kind, x, out, shape[12]): 0 max, 1 average; shape is native/pool.h's Pool2DShape in order.
Napi::Value DeviceObject::pool(const Napi::CallbackInfo& info) {
  return guarded(info, "pool", [&]() -> Napi::Value {
    const Pool2DShape s = poolShapeOf(info, 3, "pool");
    engine_->pool(static_cast<int>(integer(info, 0)),
                  static_cast<const float*>(block(info, 1, 4 * s.batch * s.inH * s.inW * s.channels, "pool")),
                  static_cast<float*>(block(info, 2, 4 * s.batch * s.outH * s.outW * s.channels, "pool")), s);
    return info.Env().Undefined();
  });
}

// poolGrad(kind, dy, x | null, dx, shape[12]): max pooling needs x
Napi::Value DeviceObject::poolGrad(const Napi::CallbackInfo& info) {
  return guarded(info, "poolGrad", [&]() -> Napi::Value {
    const Pool2DShape s = poolShapeOf(info, 4, "poolGrad");
    const int kind = static_cast<int>(integer(info, 0));
    const size_t in = 4 * s.batch * s.inH * s.inW * s.channels;
    engine_->poolGrad(kind,
                      static_cast<const float*>(block(info, 1, 4 * s.batch * s.outH * s.outW * s.channels, "poolGrad")),
                      static_cast<const float*>(kind == 0 ? block(info, 2, in, "poolGrad") : nullptr),
                      static_cast<float*>(block(info, 3, in, "poolGrad")), s);
    return info.Env().Undefined();
  });
}

// adamUpdate(param, grad, expAvg, expAvgSq, max | null, paramOut, expAvgOut, expAvgSqOut, maxOut | null, n, hyper)
Napi::Value DeviceObject::adamUpdate(const Napi::CallbackInfo& info) {
  return guarded(info, "adamUpdate", [&]() -> Napi::Value {
    const char* w = "adamUpdate";
    const int64_t n = integer(info, 9);
    const AdamStep h = adamStepOf(hyperOf(info, 10, 10, w).data());
    engine_->adamUpdate(state(info, 0, n, w), state(info, 1, n, w), state(info, 2, n, w), state(info, 3, n, w),
                        state(info, 4, n, w, true), stateOut(info, 5, n, w), stateOut(info, 6, n, w),
                        stateOut(info, 7, n, w), stateOut(info, 8, n, w, true), n, h);
    return info.Env().Undefined();
  });
}

// sgdUpdate(param, grad, buffer | null, paramOut, bufferOut | null, n, hyper)
Napi::Value DeviceObject::sgdUpdate(const Napi::CallbackInfo& info) {
  return guarded(info, "sgdUpdate", [&]() -> Napi::Value {
    const char* w = "sgdUpdate";
    const int64_t n = integer(info, 5);
    const SgdStep h = sgdStepOf(hyperOf(info, 6, 7, w).data());
    engine_->sgdUpdate(state(info, 0, n, w), state(info, 1, n, w), state(info, 2, n, w, true),
                       stateOut(info, 3, n, w), stateOut(info, 4, n, w, true), n, h);
    return info.Env().Undefined();
  });
}

// rmspropUpdate(param, grad, squareAvg, gradAvg | null, buffer | null, paramOut, squareAvgOut, gradAvgOut | null,
//               bufferOut | null, n, hyper)
Napi::Value DeviceObject::rmspropUpdate(const Napi::CallbackInfo& info) {
  return guarded(info, "rmspropUpdate", [&]() -> Napi::Value {
    const char* w = "rmspropUpdate";
    const int64_t n = integer(info, 9);
    const RmspropStep h = rmspropStepOf(hyperOf(info, 10, 7, w).data());
    engine_->rmspropUpdate(state(info, 0, n, w), state(info, 1, n, w), state(info, 2, n, w),
                           state(info, 3, n, w, true), state(info, 4, n, w, true), stateOut(info, 5, n, w),
                           stateOut(info, 6, n, w), stateOut(info, 7, n, w, true), stateOut(info, 8, n, w, true), n, h);
    return info.Env().Undefined();
  });
}

// adagradUpdate(param, grad, sum, paramOut, sumOut, n, hyper)
Napi::Value DeviceObject::adagradUpdate(const Napi::CallbackInfo& info) {
  return guarded(info, "adagradUpdate", [&]() -> Napi::Value {
    const char* w = "adagradUpdate";
    const int64_t n = integer(info, 5);
    const AdagradStep h = adagradStepOf(hyperOf(info, 6, 4, w).data());
    engine_->adagradUpdate(state(info, 0, n, w), state(info, 1, n, w), state(info, 2, n, w), stateOut(info, 3, n, w),
                           stateOut(info, 4, n, w), n, h);
    return info.Env().Undefined();
  });
}

}  // namespace device_napi
}  // namespace fulmen
