#include "device_napi.h"

#include "device_object.h"

namespace fulmen {
namespace device_napi {

Napi::Function DeviceObject::define(Napi::Env env) {
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

DeviceObject::DeviceObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeviceObject>(info) {
  engine_.reset(info[0].As<Napi::External<DeviceEngine>>().Data());
}

// An address from JavaScript, accepted only when it is a live block of at least `bytes`: a bookkeeping bug in
// the backend becomes an error here instead of a write into freed or foreign memory.
void* DeviceObject::block(const Napi::CallbackInfo& info, size_t index, size_t bytes, const char* what) {
  const double address = info[index].As<Napi::Number>().DoubleValue();
  void* pointer = reinterpret_cast<void*>(static_cast<uintptr_t>(address));
  if (!engine_->holds(pointer, bytes))
    throw Napi::RangeError::New(info.Env(), std::string(what) + ": argument " + std::to_string(index) +
                                                " is not a live device block of " + std::to_string(bytes) +
                                                " bytes");
  return pointer;
}

int64_t DeviceObject::integer(const Napi::CallbackInfo& info, size_t index) {
  return info[index].As<Napi::Number>().Int64Value();
}

std::vector<int64_t> DeviceObject::shapeOf(const Napi::Value& v) {
  auto array = v.As<Napi::Array>();
  std::vector<int64_t> shape(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) shape[i] = array.Get(i).As<Napi::Number>().Int64Value();
  return shape;
}

size_t DeviceObject::sizeOf(const std::vector<int64_t>& shape) {
  size_t n = 1;
  for (auto d : shape) n *= static_cast<size_t>(d);
  return n;
}

Napi::Value DeviceObject::describe(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), engine_->describe()); }

// allocate(bytes) → address
Napi::Value DeviceObject::allocate(const Napi::CallbackInfo& info) {
  return guarded(info, "allocate", [&]() -> Napi::Value {
    void* pointer = engine_->allocate(static_cast<size_t>(integer(info, 0)));
    return Napi::Number::New(info.Env(), static_cast<double>(reinterpret_cast<uintptr_t>(pointer)));
  });
}

Napi::Value DeviceObject::release(const Napi::CallbackInfo& info) {
  return guarded(info, "release", [&]() -> Napi::Value {
    engine_->release(block(info, 0, 0, "release"));
    return info.Env().Undefined();
  });
}

// memory() → { allocatedBytes, cachedBytes, rawAllocations }
Napi::Value DeviceObject::memory(const Napi::CallbackInfo& info) {
  const AllocatorStats stats = engine_->memoryStats();
  auto result = Napi::Object::New(info.Env());
  result.Set("allocatedBytes", static_cast<double>(stats.allocatedBytes));
  result.Set("cachedBytes", static_cast<double>(stats.cachedBytes));
  result.Set("rawAllocations", static_cast<double>(stats.rawAllocations));
  return result;
}

Napi::Value DeviceObject::emptyCache(const Napi::CallbackInfo& info) {
  return guarded(info, "emptyCache", [&]() -> Napi::Value {
    engine_->emptyCache();
    return info.Env().Undefined();
  });
}

// upload(address, typedArray)
Napi::Value DeviceObject::upload(const Napi::CallbackInfo& info) {
  return guarded(info, "upload", [&]() -> Napi::Value {
    auto source = info[1].As<Napi::TypedArray>();
    const size_t bytes = source.ByteLength();
    auto data = static_cast<const uint8_t*>(source.ArrayBuffer().Data()) + source.ByteOffset();
    engine_->upload(block(info, 0, bytes, "upload"), data, bytes);
    return info.Env().Undefined();
  });
}

// download(address, typedArray): fills the whole array
Napi::Value DeviceObject::download(const Napi::CallbackInfo& info) {
  return guarded(info, "download", [&]() -> Napi::Value {
    auto target = info[1].As<Napi::TypedArray>();
    const size_t bytes = target.ByteLength();
    auto data = static_cast<uint8_t*>(target.ArrayBuffer().Data()) + target.ByteOffset();
    engine_->download(data, block(info, 0, bytes, "download"), bytes);
    return info.Env().Undefined();
  });
}

// copy(target, source, bytes)
Napi::Value DeviceObject::copy(const Napi::CallbackInfo& info) {
  return guarded(info, "copy", [&]() -> Napi::Value {
    const size_t bytes = static_cast<size_t>(integer(info, 2));
    engine_->copy(block(info, 0, bytes, "copy"), block(info, 1, bytes, "copy"), bytes);
    return info.Env().Undefined();
  });
}

Napi::Value DeviceObject::synchronize(const Napi::CallbackInfo& info) {
  return guarded(info, "synchronize", [&]() -> Napi::Value {
    engine_->synchronize();
    return info.Env().Undefined();
  });
}

HalfFormat DeviceObject::formatOf(const Napi::CallbackInfo& info, size_t index) {
  const int64_t format = integer(info, index);
  if (format != 0 && format != 1) throw Napi::RangeError::New(info.Env(), "half format must be 0 or 1");
  return static_cast<HalfFormat>(format);
}

size_t DeviceObject::bytesOf(ElementType type) { return type == ElementType::Bool ? 1 : 4; }

ElementType DeviceObject::typeOf(const Napi::CallbackInfo& info, size_t index) {
  const int64_t code = integer(info, index);
  if (code < 0 || code > 2) throw Napi::RangeError::New(info.Env(), "unknown element type " + std::to_string(code));
  return static_cast<ElementType>(code);
}

// An optional block: null (JavaScript) is nullptr.
void* DeviceObject::optionalBlock(const Napi::CallbackInfo& info, size_t index, size_t bytes, const char* what) {
  return info[index].IsNull() ? nullptr : block(info, index, bytes, what);
}

int DeviceObject::elementBytesOf(const Napi::CallbackInfo& info, size_t index) {
  const int64_t bytes = integer(info, index);
  if (bytes != 1 && bytes != 4)
    throw Napi::RangeError::New(info.Env(), "element size must be 1 or 4 bytes, not " + std::to_string(bytes));
  return static_cast<int>(bytes);
}

// The block of `size` at `begin` must lie inside `shape`.
void DeviceObject::checkBlock(const Napi::CallbackInfo& info, const char* what, const std::vector<int64_t>& shape,
                       const std::vector<int64_t>& begin, const std::vector<int64_t>& size) {
  if (begin.size() != shape.size() || size.size() != shape.size())
    throw Napi::RangeError::New(info.Env(), std::string(what) + ": begin and size must have the tensor's rank");
  for (size_t d = 0; d < shape.size(); d++)
    if (begin[d] < 0 || size[d] < 0 || begin[d] + size[d] > shape[d])
      throw Napi::RangeError::New(info.Env(), std::string(what) + ": the block lies outside the tensor");
}

std::vector<int64_t> DeviceObject::numbersOf(const Napi::CallbackInfo& info, size_t index, size_t count,
                                      const char* what) {
  auto values = shapeOf(info[index]);
  if (values.size() != count)
    throw Napi::RangeError::New(info.Env(), std::string(what) + ": the shape record needs " + std::to_string(count) +
                                                " numbers");
  for (auto v : values)
    if (v < 0) throw Napi::RangeError::New(info.Env(), std::string(what) + ": negative size in the shape record");
  return values;
}

Pool2DShape DeviceObject::poolShapeOf(const Napi::CallbackInfo& info, size_t index, const char* what) {
  const auto v = numbersOf(info, index, 12, what);
  const Pool2DShape s{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11]};
  if (s.strideH == 0 || s.strideW == 0) throw Napi::RangeError::New(info.Env(), std::string(what) + ": zero stride");
  return s;
}

// The hyperparameter list at `index`, of exactly `count` numbers.
std::vector<double> DeviceObject::hyperOf(const Napi::CallbackInfo& info, size_t index, size_t count, const char* what) {
  auto list = info[index].As<Napi::Array>();
  if (list.Length() != count)
    throw Napi::RangeError::New(info.Env(), std::string(what) + ": expected " + std::to_string(count) +
                                                " hyperparameters");
  std::vector<double> values(count);
  for (uint32_t i = 0; i < count; i++) values[i] = list.Get(i).As<Napi::Number>().DoubleValue();
  return values;
}

// A parameter-sized float block at `index` (null allowed when `optional`).
const float* DeviceObject::state(const Napi::CallbackInfo& info, size_t index, int64_t n, const char* what, bool optional) {
  return static_cast<const float*>(optional ? optionalBlock(info, index, 4 * n, what) : block(info, index, 4 * n, what));
}

float* DeviceObject::stateOut(const Napi::CallbackInfo& info, size_t index, int64_t n, const char* what, bool optional) {
  return static_cast<float*>(optional ? optionalBlock(info, index, 4 * n, what) : block(info, index, 4 * n, what));
}

}  // namespace device_napi

Napi::Object wrapDeviceEngine(Napi::Env env, std::unique_ptr<DeviceEngine> engine) {
  // The class is defined per call: devices are made once or twice per process, and each addon stays free of
  // per-environment constructor bookkeeping.
  Napi::Function constructor = device_napi::DeviceObject::define(env);
  auto external = Napi::External<DeviceEngine>::New(env, engine.get());
  Napi::Object device = constructor.New({external});
  engine.release();  // owned by the object now
  return device;
}

}  // namespace fulmen
