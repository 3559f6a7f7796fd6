// The JavaScript object that owns a DeviceEngine (see device_napi.h): its methods take blocks as addresses and
// check each one. Defined across device_napi*.cc by family: memory and arguments, math, layers, data movement.
#pragma once

#include <napi.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "device_engine.h"

namespace fulmen {
namespace device_napi {

class DeviceObject : public Napi::ObjectWrap<DeviceObject> {
 public:
  static Napi::Function define(Napi::Env env);

  explicit DeviceObject(const Napi::CallbackInfo& info);

 private:
  // Every engine error reaches JavaScript as an Error that names the call (a failed kernel, a full device).
  template <typename F>
  Napi::Value guarded(const Napi::CallbackInfo& info, const char* what, F&& body) {
    try {
      return body();
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::bad_alloc&) {
      throw Napi::Error::New(info.Env(), std::string(what) + ": out of device memory (" + engine_->describe() +
                                             "); free tensors or use smaller batches");
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), std::string(what) + ": " + e.what());
    }
  }

  // An address from JavaScript, accepted only when it is a live block of at least `bytes`: a bookkeeping bug in
  // the backend becomes an error here instead of a write into freed or foreign memory.
  void* block(const Napi::CallbackInfo& info, size_t index, size_t bytes, const char* what);

  static int64_t integer(const Napi::CallbackInfo& info, size_t index);

  static std::vector<int64_t> shapeOf(const Napi::Value& v);

  static size_t sizeOf(const std::vector<int64_t>& shape);

  Napi::Value describe(const Napi::CallbackInfo& info);

  // allocate(bytes) → address
  Napi::Value allocate(const Napi::CallbackInfo& info);

  Napi::Value release(const Napi::CallbackInfo& info);

  // memory() → { allocatedBytes, cachedBytes, rawAllocations }
  Napi::Value memory(const Napi::CallbackInfo& info);

  Napi::Value emptyCache(const Napi::CallbackInfo& info);

  // upload(address, typedArray)
  Napi::Value upload(const Napi::CallbackInfo& info);

  // download(address, typedArray): fills the whole array
  Napi::Value download(const Napi::CallbackInfo& info);

  // copy(target, source, bytes)
  Napi::Value copy(const Napi::CallbackInfo& info);

  Napi::Value synchronize(const Napi::CallbackInfo& info);

  // binary(op, a, aShape, b, bShape, out, outShape)
  Napi::Value binary(const Napi::CallbackInfo& info);

  // compare(op, a, aShape, b, bShape, out (bytes), outShape)
  Napi::Value compare(const Napi::CallbackInfo& info);

  // unary(op, x, out, n)
  Napi::Value unary(const Napi::CallbackInfo& info);

  // roundHalf(format, x, out, n): format 0 float16, 1 bfloat16
  Napi::Value roundHalf(const Napi::CallbackInfo& info);

  static HalfFormat formatOf(const Napi::CallbackInfo& info, size_t index);

  // toHalf(format, x, out, n)
  Napi::Value toHalf(const Napi::CallbackInfo& info);

  // fromHalf(format, x, out, n)
  Napi::Value fromHalf(const Napi::CallbackInfo& info);

  // batchMatMulHalf(format, a, b, c, batchA, batchB, M, N, K, transA, transB)
  Napi::Value batchMatMulHalf(const Napi::CallbackInfo& info);

  // gelu(x, y, n)
  Napi::Value gelu(const Napi::CallbackInfo& info);

  // geluGrad(dy, x, dx, n)
  Napi::Value geluGrad(const Napi::CallbackInfo& info);

  // softmax(x, out, rows, cols)
  Napi::Value softmax(const Napi::CallbackInfo& info);

  // batchMatMul(a, b, c, batchA, batchB, M, N, K, transA, transB)
  Napi::Value batchMatMul(const Napi::CallbackInfo& info);

  static size_t bytesOf(ElementType type);

  static ElementType typeOf(const Napi::CallbackInfo& info, size_t index);

  // An optional block: null (JavaScript) is nullptr.
  void* optionalBlock(const Napi::CallbackInfo& info, size_t index, size_t bytes, const char* what);

  // layerNorm(x, weight | null, bias | null, y, mean, rstd, rows, cols, eps)
  Napi::Value layerNorm(const Napi::CallbackInfo& info);

  // layerNormGrad(dy, x, mean, rstd, weight | null, dx, dWeight | null, dBias | null, rows, cols)
  Napi::Value layerNormGrad(const Napi::CallbackInfo& info);

  static int elementBytesOf(const Napi::CallbackInfo& info, size_t index);

  // gather(x, indices, out, outer, axisDim, inner, n, elementBytes)
  Napi::Value gather(const Napi::CallbackInfo& info);

  // segmentSum(x, ids, out, n, inner, numSegments)
  Napi::Value segmentSum(const Napi::CallbackInfo& info);

  // copy2d(src, srcStride, srcOffset, dst, dstStride, dstOffset, rows, cols, elementBytes)
  Napi::Value copy2d(const Napi::CallbackInfo& info);

  // The block of `size` at `begin` must lie inside `shape`.
  static void checkBlock(const Napi::CallbackInfo& info, const char* what, const std::vector<int64_t>& shape,
                         const std::vector<int64_t>& begin, const std::vector<int64_t>& size);

  // slice(x, out, shape, begin, size, elementBytes)
  Napi::Value slice(const Napi::CallbackInfo& info);

  // insert(x, out, outShape, begin, size, elementBytes)
  Napi::Value insert(const Napi::CallbackInfo& info);

  static std::vector<int64_t> numbersOf(const Napi::CallbackInfo& info, size_t index, size_t count,
                                        const char* what);

  // conv2d(kind, first, second, out, shape[16]): 0 forward (x, filter), 1 input grad (dy, filter), 2 filter grad
  // (x, dy); shape is native/conv.h's Conv2DShape in order.
  Napi::Value conv2d(const Napi::CallbackInfo& info);

  static Pool2DShape poolShapeOf(const Napi::CallbackInfo& info, size_t index, const char* what);

  // pool(kind, x, out, shape[12]): 0 max, 1 average; shape is native/pool.h's Pool2DShape in order.
  Napi::Value pool(const Napi::CallbackInfo& info);

  // poolGrad(kind, dy, x | null, dx, shape[12]): max pooling needs x
  Napi::Value poolGrad(const Napi::CallbackInfo& info);

  // The hyperparameter list at `index`, of exactly `count` numbers.
  static std::vector<double> hyperOf(const Napi::CallbackInfo& info, size_t index, size_t count, const char* what);

  // A parameter-sized float block at `index` (null allowed when `optional`).
  const float* state(const Napi::CallbackInfo& info, size_t index, int64_t n, const char* what, bool optional = false);

  float* stateOut(const Napi::CallbackInfo& info, size_t index, int64_t n, const char* what, bool optional = false);

  // adamUpdate(param, grad, expAvg, expAvgSq, max | null, paramOut, expAvgOut, expAvgSqOut, maxOut | null, n, hyper)
  Napi::Value adamUpdate(const Napi::CallbackInfo& info);

  // sgdUpdate(param, grad, buffer | null, paramOut, bufferOut | null, n, hyper)
  Napi::Value sgdUpdate(const Napi::CallbackInfo& info);

  // rmspropUpdate(param, grad, squareAvg, gradAvg | null, buffer | null, paramOut, squareAvgOut, gradAvgOut | null,
  //               bufferOut | null, n, hyper)
  Napi::Value rmspropUpdate(const Napi::CallbackInfo& info);

  // adagradUpdate(param, grad, sum, paramOut, sumOut, n, hyper)
  Napi::Value adagradUpdate(const Napi::CallbackInfo& info);

  // reduceMiddle(kind, x, out, outer, reduce, inner)
  Napi::Value reduceMiddle(const Napi::CallbackInfo& info);

  // cast(x, fromType, out, toType, n)
  Napi::Value cast(const Napi::CallbackInfo& info);

  // fill(out, type, value, n)
  Napi::Value fill(const Napi::CallbackInfo& info);

  // oneHot(indices (int32), out, type, n, depth, on, off)
  Napi::Value oneHot(const Napi::CallbackInfo& info);

  // step(x, out, n, alpha)
  Napi::Value step(const Napi::CallbackInfo& info);

  // select(condition (bytes), t, e, out, n)
  Napi::Value select(const Napi::CallbackInfo& info);

  // clip(x, out, n, lo, hi)
  Napi::Value clip(const Napi::CallbackInfo& info);

  // transpose(x, out, shape, perm): 4-byte elements
  Napi::Value transpose(const Napi::CallbackInfo& info);

  std::unique_ptr<DeviceEngine> engine_;
};

}  // namespace device_napi
}  // namespace fulmen
