#include "device_napi.h"

#include <cstdint>
#include <exception>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace fulmen {

namespace {

class DeviceObject : public Napi::ObjectWrap<DeviceObject> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "NativeDevice",
                       {
                           InstanceMethod("describe", &DeviceObject::describe),
                           InstanceMethod("allocate", &DeviceObject::allocate),
                           InstanceMethod("release", &DeviceObject::release),
                           InstanceMethod("memory", &DeviceObject::memory),
                           InstanceMethod("emptyCache", &DeviceObject::emptyCache),
                           InstanceMethod("upload", &DeviceObject::upload),
                           InstanceMethod("download", &DeviceObject::download),
                           InstanceMethod("copy", &DeviceObject::copy),
                           InstanceMethod("synchronize", &DeviceObject::synchronize),
                           InstanceMethod("binary", &DeviceObject::binary),
                           InstanceMethod("compare", &DeviceObject::compare),
                           InstanceMethod("unary", &DeviceObject::unary),
                           InstanceMethod("gelu", &DeviceObject::gelu),
                           InstanceMethod("roundHalf", &DeviceObject::roundHalf),
                           InstanceMethod("toHalf", &DeviceObject::toHalf),
                           InstanceMethod("fromHalf", &DeviceObject::fromHalf),
                           InstanceMethod("batchMatMulHalf", &DeviceObject::batchMatMulHalf),
                           InstanceMethod("geluGrad", &DeviceObject::geluGrad),
                           InstanceMethod("softmax", &DeviceObject::softmax),
                           InstanceMethod("batchMatMul", &DeviceObject::batchMatMul),
                           InstanceMethod("reduceMiddle", &DeviceObject::reduceMiddle),
                           InstanceMethod("gather", &DeviceObject::gather),
                           InstanceMethod("segmentSum", &DeviceObject::segmentSum),
                           InstanceMethod("copy2d", &DeviceObject::copy2d),
                           InstanceMethod("slice", &DeviceObject::slice),
                           InstanceMethod("insert", &DeviceObject::insert),
                           InstanceMethod("conv2d", &DeviceObject::conv2d),
                           InstanceMethod("adamUpdate", &DeviceObject::adamUpdate),
                           InstanceMethod("sgdUpdate", &DeviceObject::sgdUpdate),
                           InstanceMethod("rmspropUpdate", &DeviceObject::rmspropUpdate),
                           InstanceMethod("adagradUpdate", &DeviceObject::adagradUpdate),
                           InstanceMethod("pool", &DeviceObject::pool),
                           InstanceMethod("poolGrad", &DeviceObject::poolGrad),
                           InstanceMethod("layerNorm", &DeviceObject::layerNorm),
                           InstanceMethod("layerNormGrad", &DeviceObject::layerNormGrad),
                           InstanceMethod("cast", &DeviceObject::cast),
                           InstanceMethod("fill", &DeviceObject::fill),
                           InstanceMethod("oneHot", &DeviceObject::oneHot),
                           InstanceMethod("step", &DeviceObject::step),
                           InstanceMethod("select", &DeviceObject::select),
                           InstanceMethod("clip", &DeviceObject::clip),
                           InstanceMethod("transpose", &DeviceObject::transpose),
                       });
  }

  explicit DeviceObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeviceObject>(info) {
    engine_.reset(info[0].As<Napi::External<DeviceEngine>>().Data());
  }

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
  void* block(const Napi::CallbackInfo& info, size_t index, size_t bytes, const char* what) {
    const double address = info[index].As<Napi::Number>().DoubleValue();
    void* pointer = reinterpret_cast<void*>(static_cast<uintptr_t>(address));
    if (!engine_->holds(pointer, bytes))
      throw Napi::RangeError::New(info.Env(), std::string(what) + ": argument " + std::to_string(index) +
                                                  " is not a live device block of " + std::to_string(bytes) +
                                                  " bytes");
    return pointer;
  }

  static int64_t integer(const Napi::CallbackInfo& info, size_t index) {
    return info[index].As<Napi::Number>().Int64Value();
  }

  static std::vector<int64_t> shapeOf(const Napi::Value& v) {
    auto array = v.As<Napi::Array>();
    std::vector<int64_t> shape(array.Length());
    for (uint32_t i = 0; i < array.Length(); i++) shape[i] = array.Get(i).As<Napi::Number>().Int64Value();
    return shape;
  }

  static size_t sizeOf(const std::vector<int64_t>& shape) {
    size_t n = 1;
    for (auto d : shape) n *= static_cast<size_t>(d);
    return n;
  }

  Napi::Value describe(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), engine_->describe()); }

  // allocate(bytes) → address
  Napi::Value allocate(const Napi::CallbackInfo& info) {
    return guarded(info, "allocate", [&]() -> Napi::Value {
      void* pointer = engine_->allocate(static_cast<size_t>(integer(info, 0)));
      return Napi::Number::New(info.Env(), static_cast<double>(reinterpret_cast<uintptr_t>(pointer)));
    });
  }

  Napi::Value release(const Napi::CallbackInfo& info) {
    return guarded(info, "release", [&]() -> Napi::Value {
      engine_->release(block(info, 0, 0, "release"));
      return info.Env().Undefined();
    });
  }

  // memory() → { allocatedBytes, cachedBytes, rawAllocations }
  Napi::Value memory(const Napi::CallbackInfo& info) {
    const AllocatorStats stats = engine_->memoryStats();
    auto result = Napi::Object::New(info.Env());
    result.Set("allocatedBytes", static_cast<double>(stats.allocatedBytes));
    result.Set("cachedBytes", static_cast<double>(stats.cachedBytes));
    result.Set("rawAllocations", static_cast<double>(stats.rawAllocations));
    return result;
  }

  Napi::Value emptyCache(const Napi::CallbackInfo& info) {
    return guarded(info, "emptyCache", [&]() -> Napi::Value {
      engine_->emptyCache();
      return info.Env().Undefined();
    });
  }

  // upload(address, typedArray)
  Napi::Value upload(const Napi::CallbackInfo& info) {
    return guarded(info, "upload", [&]() -> Napi::Value {
      auto source = info[1].As<Napi::TypedArray>();
      const size_t bytes = source.ByteLength();
      auto data = static_cast<const uint8_t*>(source.ArrayBuffer().Data()) + source.ByteOffset();
      engine_->upload(block(info, 0, bytes, "upload"), data, bytes);
      return info.Env().Undefined();
    });
  }

  // download(address, typedArray): fills the whole array
  Napi::Value download(const Napi::CallbackInfo& info) {
    return guarded(info, "download", [&]() -> Napi::Value {
      auto target = info[1].As<Napi::TypedArray>();
      const size_t bytes = target.ByteLength();
      auto data = static_cast<uint8_t*>(target.ArrayBuffer().Data()) + target.ByteOffset();
      engine_->download(data, block(info, 0, bytes, "download"), bytes);
      return info.Env().Undefined();
    });
  }

  // copy(target, source, bytes)
  Napi::Value copy(const Napi::CallbackInfo& info) {
    return guarded(info, "copy", [&]() -> Napi::Value {
      const size_t bytes = static_cast<size_t>(integer(info, 2));
      engine_->copy(block(info, 0, bytes, "copy"), block(info, 1, bytes, "copy"), bytes);
      return info.Env().Undefined();
    });
  }

  Napi::Value synchronize(const Napi::CallbackInfo& info) {
    return guarded(info, "synchronize", [&]() -> Napi::Value {
      engine_->synchronize();
      return info.Env().Undefined();
    });
  }

  // binary(op, a, aShape, b, bShape, out, outShape)
  Napi::Value binary(const Napi::CallbackInfo& info) {
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
  Napi::Value compare(const Napi::CallbackInfo& info) {
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
  Napi::Value unary(const Napi::CallbackInfo& info) {
    return guarded(info, "unary", [&]() -> Napi::Value {
      const int64_t n = integer(info, 3);
      engine_->unary(static_cast<UnaryOp>(integer(info, 0)), static_cast<const float*>(block(info, 1, 4 * n, "unary")),
                     static_cast<float*>(block(info, 2, 4 * n, "unary")), n);
      return info.Env().Undefined();
    });
  }

  // roundHalf(format, x, out, n): format 0 float16, 1 bfloat16
  Napi::Value roundHalf(const Napi::CallbackInfo& info) {
    return guarded(info, "roundHalf", [&]() -> Napi::Value {
      const int64_t format = integer(info, 0), n = integer(info, 3);
      if (format != 0 && format != 1) throw Napi::RangeError::New(info.Env(), "roundHalf: format must be 0 or 1");
      engine_->roundHalf(static_cast<HalfFormat>(format), static_cast<const float*>(block(info, 1, 4 * n, "roundHalf")),
                         static_cast<float*>(block(info, 2, 4 * n, "roundHalf")), n);
      return info.Env().Undefined();
    });
  }

  static HalfFormat formatOf(const Napi::CallbackInfo& info, size_t index) {
    const int64_t format = integer(info, index);
    if (format != 0 && format != 1) throw Napi::RangeError::New(info.Env(), "half format must be 0 or 1");
    return static_cast<HalfFormat>(format);
  }

  // toHalf(format, x, out, n)
  Napi::Value toHalf(const Napi::CallbackInfo& info) {
    return guarded(info, "toHalf", [&]() -> Napi::Value {
      const int64_t n = integer(info, 3);
      engine_->toHalf(formatOf(info, 0), static_cast<const float*>(block(info, 1, 4 * n, "toHalf")),
                      static_cast<uint16_t*>(block(info, 2, 2 * n, "toHalf")), n);
      return info.Env().Undefined();
    });
  }

  // fromHalf(format, x, out, n)
  Napi::Value fromHalf(const Napi::CallbackInfo& info) {
    return guarded(info, "fromHalf", [&]() -> Napi::Value {
      const int64_t n = integer(info, 3);
      engine_->fromHalf(formatOf(info, 0), static_cast<const uint16_t*>(block(info, 1, 2 * n, "fromHalf")),
                        static_cast<float*>(block(info, 2, 4 * n, "fromHalf")), n);
      return info.Env().Undefined();
    });
  }

  // batchMatMulHalf(format, a, b, c, batchA, batchB, M, N, K, transA, transB)
  Napi::Value batchMatMulHalf(const Napi::CallbackInfo& info) {
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
  Napi::Value gelu(const Napi::CallbackInfo& info) {
    return guarded(info, "gelu", [&]() -> Napi::Value {
      const int64_t n = integer(info, 2);
      engine_->gelu(static_cast<const float*>(block(info, 0, 4 * n, "gelu")),
                    static_cast<float*>(block(info, 1, 4 * n, "gelu")), n);
      return info.Env().Undefined();
    });
  }

  // geluGrad(dy, x, dx, n)
  Napi::Value geluGrad(const Napi::CallbackInfo& info) {
    return guarded(info, "geluGrad", [&]() -> Napi::Value {
      const int64_t n = integer(info, 3);
      engine_->geluGrad(static_cast<const float*>(block(info, 0, 4 * n, "geluGrad")),
                        static_cast<const float*>(block(info, 1, 4 * n, "geluGrad")),
                        static_cast<float*>(block(info, 2, 4 * n, "geluGrad")), n);
      return info.Env().Undefined();
    });
  }

  // softmax(x, out, rows, cols)
  Napi::Value softmax(const Napi::CallbackInfo& info) {
    return guarded(info, "softmax", [&]() -> Napi::Value {
      const int64_t rows = integer(info, 2), cols = integer(info, 3);
      engine_->softmax(static_cast<const float*>(block(info, 0, 4 * rows * cols, "softmax")),
                       static_cast<float*>(block(info, 1, 4 * rows * cols, "softmax")), rows, cols);
      return info.Env().Undefined();
    });
  }

  // batchMatMul(a, b, c, batchA, batchB, M, N, K, transA, transB)
  Napi::Value batchMatMul(const Napi::CallbackInfo& info) {
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

  static size_t bytesOf(ElementType type) { return type == ElementType::Bool ? 1 : 4; }

  static ElementType typeOf(const Napi::CallbackInfo& info, size_t index) {
    const int64_t code = integer(info, index);
    if (code < 0 || code > 2) throw Napi::RangeError::New(info.Env(), "unknown element type " + std::to_string(code));
    return static_cast<ElementType>(code);
  }

  // An optional block: null (JavaScript) is nullptr.
  void* optionalBlock(const Napi::CallbackInfo& info, size_t index, size_t bytes, const char* what) {
    return info[index].IsNull() ? nullptr : block(info, index, bytes, what);
  }

  // layerNorm(x, weight | null, bias | null, y, mean, rstd, rows, cols, eps)
  Napi::Value layerNorm(const Napi::CallbackInfo& info) {
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
  Napi::Value layerNormGrad(const Napi::CallbackInfo& info) {
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

  static int elementBytesOf(const Napi::CallbackInfo& info, size_t index) {
    const int64_t bytes = integer(info, index);
    if (bytes != 1 && bytes != 4)
      throw Napi::RangeError::New(info.Env(), "element size must be 1 or 4 bytes, not " + std::to_string(bytes));
    return static_cast<int>(bytes);
  }

  // gather(x, indices, out, outer, axisDim, inner, n, elementBytes)
  Napi::Value gather(const Napi::CallbackInfo& info) {
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
  Napi::Value segmentSum(const Napi::CallbackInfo& info) {
    return guarded(info, "segmentSum", [&]() -> Napi::Value {
      const int64_t n = integer(info, 3), inner = integer(info, 4), segments = integer(info, 5);
      engine_->segmentSum(static_cast<const float*>(block(info, 0, 4 * n * inner, "segmentSum")),
                          static_cast<const int32_t*>(block(info, 1, 4 * n, "segmentSum")),
                          static_cast<float*>(block(info, 2, 4 * segments * inner, "segmentSum")), n, inner, segments);
      return info.Env().Undefined();
    });
  }

  // copy2d(src, srcStride, srcOffset, dst, dstStride, dstOffset, rows, cols, elementBytes)
  Napi::Value copy2d(const Napi::CallbackInfo& info) {
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

  // The block of `size` at `begin` must lie inside `shape`.
  static void checkBlock(const Napi::CallbackInfo& info, const char* what, const std::vector<int64_t>& shape,
                         const std::vector<int64_t>& begin, const std::vector<int64_t>& size) {
    if (begin.size() != shape.size() || size.size() != shape.size())
      throw Napi::RangeError::New(info.Env(), std::string(what) + ": begin and size must have the tensor's rank");
    for (size_t d = 0; d < shape.size(); d++)
      if (begin[d] < 0 || size[d] < 0 || begin[d] + size[d] > shape[d])
        throw Napi::RangeError::New(info.Env(), std::string(what) + ": the block lies outside the tensor");
  }

  // slice(x, out, shape, begin, size, elementBytes)
  Napi::Value slice(const Napi::CallbackInfo& info) {
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
  Napi::Value insert(const Napi::CallbackInfo& info) {
    return guarded(info, "insert", [&]() -> Napi::Value {
      const auto outShape = shapeOf(info[2]), begin = shapeOf(info[3]), size = shapeOf(info[4]);
      const int bytes = elementBytesOf(info, 5);
      checkBlock(info, "insert", outShape, begin, size);
      engine_->insert(block(info, 0, bytes * sizeOf(size), "insert"), block(info, 1, bytes * sizeOf(outShape), "insert"),
                      outShape, begin, size, bytes);
      return info.Env().Undefined();
    });
  }

  static std::vector<int64_t> numbersOf(const Napi::CallbackInfo& info, size_t index, size_t count,
                                        const char* what) {
    auto values = shapeOf(info[index]);
    if (values.size() != count)
      throw Napi::RangeError::New(info.Env(), std::string(what) + ": the shape record needs " + std::to_string(count) +
                                                  " numbers");
    for (auto v : values)
      if (v < 0) throw Napi::RangeError::New(info.Env(), std::string(what) + ": negative size in the shape record");
    return values;
  }

  // conv2d(kind, first, second, out, shape[15]): 0 forward (x, filter), 1 input grad (dy, filter), 2 filter grad
  // (x, dy); shape is native/conv.h's Conv2DShape in order.
  Napi::Value conv2d(const Napi::CallbackInfo& info) {
    return guarded(info, "conv2d", [&]() -> Napi::Value {
      const int64_t kind = integer(info, 0);
      const auto v = numbersOf(info, 4, 15, "conv2d");
      const Conv2DShape s{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14]};
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

  static Pool2DShape poolShapeOf(const Napi::CallbackInfo& info, size_t index, const char* what) {
    const auto v = numbersOf(info, index, 12, what);
    const Pool2DShape s{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11]};
    if (s.strideH == 0 || s.strideW == 0) throw Napi::RangeError::New(info.Env(), std::string(what) + ": zero stride");
    return s;
  }

  // pool(kind, x, out, shape[12]): 0 max, 1 average; shape is native/pool_transpose.h's Pool2DShape in order.
  Napi::Value pool(const Napi::CallbackInfo& info) {
    return guarded(info, "pool", [&]() -> Napi::Value {
      const Pool2DShape s = poolShapeOf(info, 3, "pool");
      engine_->pool(static_cast<int>(integer(info, 0)),
                    static_cast<const float*>(block(info, 1, 4 * s.batch * s.inH * s.inW * s.channels, "pool")),
                    static_cast<float*>(block(info, 2, 4 * s.batch * s.outH * s.outW * s.channels, "pool")), s);
      return info.Env().Undefined();
    });
  }

  // poolGrad(kind, dy, x | null, dx, shape[12]): max pooling needs x
  Napi::Value poolGrad(const Napi::CallbackInfo& info) {
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

  // The hyperparameter list at `index`, of exactly `count` numbers.
  static std::vector<double> hyperOf(const Napi::CallbackInfo& info, size_t index, size_t count, const char* what) {
    auto list = info[index].As<Napi::Array>();
    if (list.Length() != count)
      throw Napi::RangeError::New(info.Env(), std::string(what) + ": expected " + std::to_string(count) +
                                                  " hyperparameters");
    std::vector<double> values(count);
    for (uint32_t i = 0; i < count; i++) values[i] = list.Get(i).As<Napi::Number>().DoubleValue();
    return values;
  }

  // A parameter-sized float block at `index` (null allowed when `optional`).
  const float* state(const Napi::CallbackInfo& info, size_t index, int64_t n, const char* what, bool optional = false) {
    return static_cast<const float*>(optional ? optionalBlock(info, index, 4 * n, what) : block(info, index, 4 * n, what));
  }
  float* stateOut(const Napi::CallbackInfo& info, size_t index, int64_t n, const char* what, bool optional = false) {
    return static_cast<float*>(optional ? optionalBlock(info, index, 4 * n, what) : block(info, index, 4 * n, what));
  }

  // adamUpdate(param, grad, expAvg, expAvgSq, max | null, paramOut, expAvgOut, expAvgSqOut, maxOut | null, n, hyper)
  Napi::Value adamUpdate(const Napi::CallbackInfo& info) {
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
  Napi::Value sgdUpdate(const Napi::CallbackInfo& info) {
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
  Napi::Value rmspropUpdate(const Napi::CallbackInfo& info) {
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
  Napi::Value adagradUpdate(const Napi::CallbackInfo& info) {
    return guarded(info, "adagradUpdate", [&]() -> Napi::Value {
      const char* w = "adagradUpdate";
      const int64_t n = integer(info, 5);
      const AdagradStep h = adagradStepOf(hyperOf(info, 6, 4, w).data());
      engine_->adagradUpdate(state(info, 0, n, w), state(info, 1, n, w), state(info, 2, n, w), stateOut(info, 3, n, w),
                             stateOut(info, 4, n, w), n, h);
      return info.Env().Undefined();
    });
  }

  // reduceMiddle(kind, x, out, outer, reduce, inner)
  Napi::Value reduceMiddle(const Napi::CallbackInfo& info) {
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
  Napi::Value cast(const Napi::CallbackInfo& info) {
    return guarded(info, "cast", [&]() -> Napi::Value {
      const ElementType from = typeOf(info, 1), to = typeOf(info, 3);
      const int64_t n = integer(info, 4);
      engine_->cast(block(info, 0, bytesOf(from) * n, "cast"), from, block(info, 2, bytesOf(to) * n, "cast"), to, n);
      return info.Env().Undefined();
    });
  }

  // fill(out, type, value, n)
  Napi::Value fill(const Napi::CallbackInfo& info) {
    return guarded(info, "fill", [&]() -> Napi::Value {
      const ElementType type = typeOf(info, 1);
      const int64_t n = integer(info, 3);
      engine_->fill(block(info, 0, bytesOf(type) * n, "fill"), type, info[2].As<Napi::Number>().DoubleValue(), n);
      return info.Env().Undefined();
    });
  }

  // oneHot(indices (int32), out, type, n, depth, on, off)
  Napi::Value oneHot(const Napi::CallbackInfo& info) {
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
  Napi::Value step(const Napi::CallbackInfo& info) {
    return guarded(info, "step", [&]() -> Napi::Value {
      const int64_t n = integer(info, 2);
      engine_->step(static_cast<const float*>(block(info, 0, 4 * n, "step")),
                    static_cast<float*>(block(info, 1, 4 * n, "step")), n, info[3].As<Napi::Number>().FloatValue());
      return info.Env().Undefined();
    });
  }

  // select(condition (bytes), t, e, out, n)
  Napi::Value select(const Napi::CallbackInfo& info) {
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
  Napi::Value clip(const Napi::CallbackInfo& info) {
    return guarded(info, "clip", [&]() -> Napi::Value {
      const int64_t n = integer(info, 2);
      engine_->clip(static_cast<const float*>(block(info, 0, 4 * n, "clip")),
                    static_cast<float*>(block(info, 1, 4 * n, "clip")), n, info[3].As<Napi::Number>().DoubleValue(),
                    info[4].As<Napi::Number>().DoubleValue());
      return info.Env().Undefined();
    });
  }

  // transpose(x, out, shape, perm): 4-byte elements
  Napi::Value transpose(const Napi::CallbackInfo& info) {
    return guarded(info, "transpose", [&]() -> Napi::Value {
      const auto shape = shapeOf(info[2]), perm = shapeOf(info[3]);
      const size_t bytes = 4 * sizeOf(shape);
      engine_->transpose(block(info, 0, bytes, "transpose"), block(info, 1, bytes, "transpose"), shape, perm);
      return info.Env().Undefined();
    });
  }

  std::unique_ptr<DeviceEngine> engine_;
};

}  // namespace

Napi::Object wrapDeviceEngine(Napi::Env env, std::unique_ptr<DeviceEngine> engine) {
  // The class is defined per call: devices are made once or twice per process, and each addon stays free of
  // per-environment constructor bookkeeping.
  Napi::Function constructor = DeviceObject::define(env);
  auto external = Napi::External<DeviceEngine>::New(env, engine.get());
  Napi::Object device = constructor.New({external});
  engine.release();  // owned by the object now
  return device;
}

}  // namespace fulmen
