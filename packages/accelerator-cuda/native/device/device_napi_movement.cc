// The device object's gather, segment sum, block copy, slice, insert and transpose methods: arguments checked, then the engine's kernel.
#include "device_object.h"

namespace fulmen {
namespace device_napi {

// gather(x, indices, out, outer, axisDim, inner, n, elementBytes)
Napi::Value DeviceObject::gather(const Napi::CallbackInfo& info) {
  return guarded(info, "gather", [&]() -> Napi::Value {
    const int64_t outer = integer(info, 3), axisDim = integer(info, 4), inner = integer(info, 5), n = integer(info, 6);
    const int bytes = elementBytesOf(info, 7);
    engine_->gather(block(info, 0, bytes * outer * axisDim * inner, "gather"),
                    static_cast<const int32_t*>(block(info, 1, 4 * n, "gather")),
                    block(info, 2, bytes * outer * n * inner, "gather"), outer, axisDim, inner, n, bytes);
    return info.Env().Undefined();
  });
}

// segmentSum(x, ids, out, n, inner, numSegments)
Napi::Value DeviceObject::segmentSum(const Napi::CallbackInfo& info) {
  return guarded(info, "segmentSum", [&]() -> Napi::Value {
    const int64_t n = integer(info, 3), inner = integer(info, 4), segments = integer(info, 5);
    engine_->segmentSum(static_cast<const float*>(block(info, 0, 4 * n * inner, "segmentSum")),
                        static_cast<const int32_t*>(block(info, 1, 4 * n, "segmentSum")),
                        static_cast<float*>(block(info, 2, 4 * segments * inner, "segmentSum")), n, inner, segments);
    return info.Env().Undefined();
  });
}

// copy2d(src, srcStride, srcOffset, dst, dstStride, dstOffset, rows, cols, elementBytes)
Napi::Value DeviceObject::copy2d(const Napi::CallbackInfo& info) {
  return guarded(info, "copy2d", [&]() -> Napi::Value {
    const int64_t srcStride = integer(info, 1), srcOffset = integer(info, 2), dstStride = integer(info, 4);
    const int64_t dstOffset = integer(info, 5), rows = integer(info, 6), cols = integer(info, 7);
    const int bytes = elementBytesOf(info, 8);
    if (rows == 0 || cols == 0) return info.Env().Undefined();
    if (srcOffset < 0 || dstOffset < 0 || cols + srcOffset > srcStride || cols + dstOffset > dstStride)
      throw Napi::RangeError::New(info.Env(), "copy2d: the block does not fit its rows");
    engine_->copy2d(block(info, 0, bytes * ((rows - 1) * srcStride + srcOffset + cols), "copy2d"), srcStride,
                    srcOffset, block(info, 3, bytes * ((rows - 1) * dstStride + dstOffset + cols), "copy2d"),
                    dstStride, dstOffset, rows, cols, bytes);
    return info.Env().Undefined();
  });
}

// slice(x, out, shape, begin, size, elementBytes)
Napi::Value DeviceObject::slice(const Napi::CallbackInfo& info) {
  return guarded(info, "slice", [&]() -> Napi::Value {
    const auto shape = shapeOf(info[2]), begin = shapeOf(info[3]), size = shapeOf(info[4]);
    const int bytes = elementBytesOf(info, 5);
    checkBlock(info, "slice", shape, begin, size);
    engine_->slice(block(info, 0, bytes * sizeOf(shape), "slice"), block(info, 1, bytes * sizeOf(size), "slice"),
                   shape, begin, size, bytes);
    return info.Env().Undefined();
  });
}

// insert(x, out, outShape, begin, size, elementBytes)
Napi::Value DeviceObject::insert(const Napi::CallbackInfo& info) {
  return guarded(info, "insert", [&]() -> Napi::Value {
    const auto outShape = shapeOf(info[2]), begin = shapeOf(info[3]), size = shapeOf(info[4]);
    const int bytes = elementBytesOf(info, 5);
    checkBlock(info, "insert", outShape, begin, size);
    engine_->insert(block(info, 0, bytes * sizeOf(size), "insert"), block(info, 1, bytes * sizeOf(outShape), "insert"),
                    outShape, begin, size, bytes);
    return info.Env().Undefined();
  });
}

// transpose(x, out, shape, perm): 4-byte elements
Napi::Value DeviceObject::transpose(const Napi::CallbackInfo& info) {
  return guarded(info, "transpose", [&]() -> Napi::Value {
    const auto shape = shapeOf(info[2]), perm = shapeOf(info[3]);
    const size_t bytes = 4 * sizeOf(shape);
    engine_->transpose(block(info, 0, bytes, "transpose"), block(info, 1, bytes, "transpose"), shape, perm);
    return info.Env().Undefined();
  });
}

}  // namespace device_napi
}  // namespace fulmen
