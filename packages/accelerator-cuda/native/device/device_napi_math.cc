// The device object's element-wise, comparison, reduction, cast, fill, GEMM, softmax, GELU and half-storage methods: arguments checked, then the engine's kernel.
#include "device_object.h"

namespace fulmen {
namespace device_napi {

// binary(op, a, aShape, b, bShape, out, outShape)
Napi::Value DeviceObject::binary(const Napi::CallbackInfo& info) {
  return guarded(info, "binary", [&]() -> Napi::Value {
    const auto aShape = shapeOf(info[2]), bShape = shapeOf(info[4]), outShape = shapeOf(info[6]);
    engine_->binary(static_cast<BinaryOp>(integer(info, 0)),
                    static_cast<const float*>(block(info, 1, 4 * sizeOf(aShape), "binary")), aShape,
                    static_cast<const float*>(block(info, 3, 4 * sizeOf(bShape), "binary")), bShape,
                    static_cast<float*>(block(info, 5, 4 * sizeOf(outShape), "binary")), outShape);
    return info.Env().Undefined();
  });
}

// compare(op, a, aShape, b, bShape, out (bytes), outShape)
Napi::Value DeviceObject::compare(const Napi::CallbackInfo& info) {
  return guarded(info, "compare", [&]() -> Napi::Value {
    const auto aShape = shapeOf(info[2]), bShape = shapeOf(info[4]), outShape = shapeOf(info[6]);
    engine_->compare(static_cast<CompareOp>(integer(info, 0)),
                     static_cast<const float*>(block(info, 1, 4 * sizeOf(aShape), "compare")), aShape,
                     static_cast<const float*>(block(info, 3, 4 * sizeOf(bShape), "compare")), bShape,
                     static_cast<uint8_t*>(block(info, 5, sizeOf(outShape), "compare")), outShape);
    return info.Env().Undefined();
  });
}

// unary(op, x, out, n)
Napi::Value DeviceObject::unary(const Napi::CallbackInfo& info) {
  return guarded(info, "unary", [&]() -> Napi::Value {
    const int64_t n = integer(info, 3);
    engine_->unary(static_cast<UnaryOp>(integer(info, 0)), static_cast<const float*>(block(info, 1, 4 * n, "unary")),
                   static_cast<float*>(block(info, 2, 4 * n, "unary")), n);
    return info.Env().Undefined();
  });
}

// roundHalf(format, x, out, n): format 0 float16, 1 bfloat16
Napi::Value DeviceObject::roundHalf(const Napi::CallbackInfo& info) {
  return guarded(info, "roundHalf", [&]() -> Napi::Value {
    const int64_t format = integer(info, 0), n = integer(info, 3);
    if (format != 0 && format != 1) throw Napi::RangeError::New(info.Env(), "roundHalf: format must be 0 or 1");
    engine_->roundHalf(static_cast<HalfFormat>(format), static_cast<const float*>(block(info, 1, 4 * n, "roundHalf")),
                       static_cast<float*>(block(info, 2, 4 * n, "roundHalf")), n);
    return info.Env().Undefined();
  });
}

// toHalf(format, x, out, n)
Napi::Value DeviceObject::toHalf(const Napi::CallbackInfo& info) {
  return guarded(info, "toHalf", [&]() -> Napi::Value {
    const int64_t n = integer(info, 3);
    engine_->toHalf(formatOf(info, 0), static_cast<const float*>(block(info, 1, 4 * n, "toHalf")),
                    static_cast<uint16_t*>(block(info, 2, 2 * n, "toHalf")), n);
    return info.Env().Undefined();
  });
}

// fromHalf(format, x, out, n)
Napi::Value DeviceObject::fromHalf(const Napi::CallbackInfo& info) {
  return guarded(info, "fromHalf", [&]() -> Napi::Value {
    const int64_t n = integer(info, 3);
    engine_->fromHalf(formatOf(info, 0), static_cast<const uint16_t*>(block(info, 1, 2 * n, "fromHalf")),
                      static_cast<float*>(block(info, 2, 4 * n, "fromHalf")), n);
    return info.Env().Undefined();
  });
}

// batchMatMulHalf(format, a, b, c, batchA, batchB, M, N, K, transA, transB)
Napi::Value DeviceObject::batchMatMulHalf(const Napi::CallbackInfo& info) {
  return guarded(info, "batchMatMulHalf", [&]() -> Napi::Value {
    const int batchA = static_cast<int>(integer(info, 4)), batchB = static_cast<int>(integer(info, 5));
    const int M = static_cast<int>(integer(info, 6)), N = static_cast<int>(integer(info, 7));
    const int K = static_cast<int>(integer(info, 8));
    const size_t batch = static_cast<size_t>(batchA > batchB ? batchA : batchB);
    engine_->batchMatMulHalf(
        formatOf(info, 0), static_cast<const uint16_t*>(block(info, 1, 2 * size_t(batchA) * M * K, "batchMatMulHalf")),
        static_cast<const uint16_t*>(block(info, 2, 2 * size_t(batchB) * K * N, "batchMatMulHalf")),
        static_cast<float*>(block(info, 3, 4 * batch * M * N, "batchMatMulHalf")), batchA, batchB, M, N, K,
        info[9].As<Napi::Boolean>().Value(), info[10].As<Napi::Boolean>().Value());
    return info.Env().Undefined();
  });
}

// gelu(x, y, n)
Napi::Value DeviceObject::gelu(const Napi::CallbackInfo& info) {
  return guarded(info, "gelu", [&]() -> Napi::Value {
    const int64_t n = integer(info, 2);
    engine_->gelu(static_cast<const float*>(block(info, 0, 4 * n, "gelu")),
                  static_cast<float*>(block(info, 1, 4 * n, "gelu")), n);
    return info.Env().Undefined();
  });
}

// geluGrad(dy, x, dx, n)
Napi::Value DeviceObject::geluGrad(const Napi::CallbackInfo& info) {
  return guarded(info, "geluGrad", [&]() -> Napi::Value {
    const int64_t n = integer(info, 3);
    engine_->geluGrad(static_cast<const float*>(block(info, 0, 4 * n, "geluGrad")),
                      static_cast<const float*>(block(info, 1, 4 * n, "geluGrad")),
                      static_cast<float*>(block(info, 2, 4 * n, "geluGrad")), n);
    return info.Env().Undefined();
  });
}

// softmax(x, out, rows, cols)
Napi::Value DeviceObject::softmax(const Napi::CallbackInfo& info) {
  return guarded(info, "softmax", [&]() -> Napi::Value {
    const int64_t rows = integer(info, 2), cols = integer(info, 3);
    engine_->softmax(static_cast<const float*>(block(info, 0, 4 * rows * cols, "softmax")),
                     static_cast<float*>(block(info, 1, 4 * rows * cols, "softmax")), rows, cols);
    return info.Env().Undefined();
  });
}

// batchMatMul(a, b, c, batchA, batchB, M, N, K, transA, transB)
Napi::Value DeviceObject::batchMatMul(const Napi::CallbackInfo& info) {
  return guarded(info, "batchMatMul", [&]() -> Napi::Value {
    const int batchA = static_cast<int>(integer(info, 3)), batchB = static_cast<int>(integer(info, 4));
    const int M = static_cast<int>(integer(info, 5)), N = static_cast<int>(integer(info, 6));
    const int K = static_cast<int>(integer(info, 7));
    const size_t batch = static_cast<size_t>(batchA > batchB ? batchA : batchB);
    engine_->batchMatMul(static_cast<const float*>(block(info, 0, 4 * size_t(batchA) * M * K, "batchMatMul")),
                         static_cast<const float*>(block(info, 1, 4 * size_t(batchB) * K * N, "batchMatMul")),
                         static_cast<float*>(block(info, 2, 4 * batch * M * N, "batchMatMul")), batchA, batchB,
                         M, N, K, info[8].As<Napi::Boolean>().Value(), info[9].As<Napi::Boolean>().Value());
    return info.Env().Undefined();
  });
}

// reduceMiddle(kind, x, out, outer, reduce, inner)
Napi::Value DeviceObject::reduceMiddle(const Napi::CallbackInfo& info) {
  return guarded(info, "reduceMiddle", [&]() -> Napi::Value {
    const int64_t outer = integer(info, 3), reduce = integer(info, 4), inner = integer(info, 5);
    engine_->reduceMiddle(static_cast<ReduceKind>(integer(info, 0)),
                          static_cast<const float*>(block(info, 1, 4 * outer * reduce * inner, "reduceMiddle")),
                          static_cast<float*>(block(info, 2, 4 * outer * inner, "reduceMiddle")), outer, reduce,
                          inner);
    return info.Env().Undefined();
  });
}

// cast(x, fromType, out, toType, n)
Napi::Value DeviceObject::cast(const Napi::CallbackInfo& info) {
  return guarded(info, "cast", [&]() -> Napi::Value {
    const ElementType from = typeOf(info, 1), to = typeOf(info, 3);
    const int64_t n = integer(info, 4);
    engine_->cast(block(info, 0, bytesOf(from) * n, "cast"), from, block(info, 2, bytesOf(to) * n, "cast"), to, n);
    return info.Env().Undefined();
  });
}

// fill(out, type, value, n)
Napi::Value DeviceObject::fill(const Napi::CallbackInfo& info) {
  return guarded(info, "fill", [&]() -> Napi::Value {
    const ElementType type = typeOf(info, 1);
    const int64_t n = integer(info, 3);
    engine_->fill(block(info, 0, bytesOf(type) * n, "fill"), type, info[2].As<Napi::Number>().DoubleValue(), n);
    return info.Env().Undefined();
  });
}

// oneHot(indices (int32), out, type, n, depth, on, off)
Napi::Value DeviceObject::oneHot(const Napi::CallbackInfo& info) {
  return guarded(info, "oneHot", [&]() -> Napi::Value {
    const ElementType type = typeOf(info, 2);
    const int64_t n = integer(info, 3), depth = integer(info, 4);
    engine_->oneHot(static_cast<const int32_t*>(block(info, 0, 4 * n, "oneHot")),
                    block(info, 1, bytesOf(type) * n * depth, "oneHot"), type, n, depth,
                    info[5].As<Napi::Number>().DoubleValue(), info[6].As<Napi::Number>().DoubleValue());
    return info.Env().Undefined();
  });
}

// step(x, out, n, alpha)
Napi::Value DeviceObject::step(const Napi::CallbackInfo& info) {
  return guarded(info, "step", [&]() -> Napi::Value {
    const int64_t n = integer(info, 2);
    engine_->step(static_cast<const float*>(block(info, 0, 4 * n, "step")),
                  static_cast<float*>(block(info, 1, 4 * n, "step")), n, info[3].As<Napi::Number>().FloatValue());
    return info.Env().Undefined();
  });
}

// select(condition (bytes), t, e, out, n)
Napi::Value DeviceObject::select(const Napi::CallbackInfo& info) {
  return guarded(info, "select", [&]() -> Napi::Value {
    const int64_t n = integer(info, 4);
    engine_->select(static_cast<const uint8_t*>(block(info, 0, n, "select")),
                    static_cast<const float*>(block(info, 1, 4 * n, "select")),
                    static_cast<const float*>(block(info, 2, 4 * n, "select")),
                    static_cast<float*>(block(info, 3, 4 * n, "select")), n);
    return info.Env().Undefined();
  });
}

// clip(x, out, n, lo, hi)
Napi::Value DeviceObject::clip(const Napi::CallbackInfo& info) {
  return guarded(info, "clip", [&]() -> Napi::Value {
    const int64_t n = integer(info, 2);
    engine_->clip(static_cast<const float*>(block(info, 0, 4 * n, "clip")),
                  static_cast<float*>(block(info, 1, 4 * n, "clip")), n, info[3].As<Napi::Number>().DoubleValue(),
                  info[4].As<Napi::Number>().DoubleValue());
    return info.Env().Undefined();
  });
}

}  // namespace device_napi
}  // namespace fulmen
