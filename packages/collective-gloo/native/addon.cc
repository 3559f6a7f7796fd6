// The N-API surface: a `Group` class whose collectives come in a synchronous form (usable inside tfjs's
// synchronous gradient code), a Promise form that runs on a libuv worker and keeps the event loop free, and a
// started form: the collective runs on a thread of its own while JavaScript goes on computing, and the handle's
// synchronous `wait()` joins it (what overlaps communication with tfjs's synchronous compute).
#include <napi.h>

#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "group.h"

namespace fulmen {
namespace {

struct View {
  void* data;
  size_t count;
  size_t bytes;
  DType type;
};

View viewOf(const Napi::Value& value, const Napi::Value& halfFormat) {
  if (!value.IsTypedArray()) throw Napi::TypeError::New(value.Env(), "expected a typed array");
  auto array = value.As<Napi::TypedArray>();
  void* data = static_cast<char*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  size_t count = array.ElementLength();
  switch (array.TypedArrayType()) {
    case napi_float32_array:
      return {data, count, count * 4, DType::Float32};
    case napi_int32_array:
      return {data, count, count * 4, DType::Int32};
    case napi_uint8_array:
      return {data, count, count, DType::Uint8};
    case napi_uint16_array: {
      std::string format = halfFormat.IsString() ? halfFormat.As<Napi::String>().Utf8Value() : "";
      if (format == "float16") return {data, count, count * 2, DType::Float16};
      if (format == "bfloat16") return {data, count, count * 2, DType::Bfloat16};
      return {data, count, count * 2, DType::Uint8};
    }
    default:
      throw Napi::TypeError::New(value.Env(), "send Float32Array, Int32Array, Uint16Array or Uint8Array data");
  }
}

ReduceOp reduceOpOf(const Napi::Value& value) {
  std::string op = value.As<Napi::String>().Utf8Value();
  if (op == "sum") return ReduceOp::Sum;
  if (op == "mean") return ReduceOp::Mean;
  if (op == "max") return ReduceOp::Max;
  if (op == "min") return ReduceOp::Min;
  throw Napi::TypeError::New(value.Env(), "unknown reduce op '" + op + "'; use sum, mean, max or min");
}

/** Runs one collective on a libuv worker thread; holds the arrays it touches so GC cannot take them. */
class CollectiveWorker : public Napi::AsyncWorker {
 public:
  CollectiveWorker(Napi::Env env, std::function<void()> body, std::vector<Napi::Value> keepAlive)
      : Napi::AsyncWorker(env), body_(std::move(body)), deferred_(Napi::Promise::Deferred::New(env)) {
    for (auto& value : keepAlive) held_.push_back(Napi::Persistent(value.As<Napi::Object>()));
  }
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      body_();
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  std::function<void()> body_;
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> held_;
};

/** A started collective: its thread, what it threw, and the arrays it touches (held until it is joined). */
struct Started {
  std::thread thread;
  std::string error;
  std::vector<Napi::ObjectReference> held;
  ~Started() {
    if (thread.joinable()) thread.join();
  }
};

/** How a collective runs: now, on a libuv worker (a Promise), or started on its own thread (a handle). */
enum class Mode { Sync, Promise, Start };

class GroupWrap : public Napi::ObjectWrap<GroupWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "Group",
                       {
                           InstanceMethod("connect", &GroupWrap::connect),
                           InstanceMethod("connectAsync", &GroupWrap::connectAsync),
                           InstanceMethod("allReduce", &GroupWrap::allReduce),
                           InstanceMethod("allGather", &GroupWrap::allGather),
                           InstanceMethod("reduceScatter", &GroupWrap::reduceScatter),
                           InstanceMethod("broadcast", &GroupWrap::broadcast),
                           InstanceMethod("barrier", &GroupWrap::barrier),
                           InstanceMethod("close", &GroupWrap::close),
                           InstanceAccessor("storePort", &GroupWrap::storePort, nullptr),
                           InstanceAccessor("storeAddress", &GroupWrap::storeAddress, nullptr),
                       });
  }

  explicit GroupWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<GroupWrap>(info) {
    auto o = info[0].As<Napi::Object>();
    // A subgroup: { parent: Group, members: number[], name: string }.
    if (o.Has("parent")) {
      auto* parent = GroupWrap::Unwrap(o.Get("parent").As<Napi::Object>());
      auto list = o.Get("members").As<Napi::Array>();
      std::vector<int> members;
      for (uint32_t i = 0; i < list.Length(); i++) members.push_back(list.Get(i).As<Napi::Number>().Int32Value());
      try {
        group_ = std::make_shared<Group>(parent->group_, members, o.Get("name").As<Napi::String>().Utf8Value());
      } catch (const std::exception& e) {
        throw Napi::Error::New(info.Env(), e.what());
      }
      return;
    }
    GroupOptions options;
    options.rank = o.Get("rank").As<Napi::Number>().Int32Value();
    options.worldSize = o.Get("worldSize").As<Napi::Number>().Int32Value();
    options.storeKind = o.Get("store").As<Napi::String>().Utf8Value();
    if (o.Has("host")) options.host = o.Get("host").As<Napi::String>().Utf8Value();
    if (o.Has("port")) options.port = o.Get("port").As<Napi::Number>().Int32Value();
    if (o.Has("path")) options.path = o.Get("path").As<Napi::String>().Utf8Value();
    if (o.Has("bindHost")) options.bindHost = o.Get("bindHost").As<Napi::String>().Utf8Value();
    if (o.Has("secret")) options.secret = o.Get("secret").As<Napi::String>().Utf8Value();
    if (o.Has("prefix")) options.prefix = o.Get("prefix").As<Napi::String>().Utf8Value();
    if (o.Has("hostname")) options.hostname = o.Get("hostname").As<Napi::String>().Utf8Value();
    if (o.Has("iface")) options.iface = o.Get("iface").As<Napi::String>().Utf8Value();
    if (o.Has("timeoutMs"))
      options.timeout = std::chrono::milliseconds(o.Get("timeoutMs").As<Napi::Number>().Int64Value());
    try {
      group_ = std::make_shared<Group>(options);
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
  }

 private:
  /**
   * Runs `body` now (sync), on a worker (the last argument `true`: returns a Promise) or on a thread of its own
   * (the last argument `"start"`: returns `{ wait() }`, which joins it and throws what it threw).
   */
  Napi::Value run(const Napi::CallbackInfo& info, Mode mode, std::function<void()> body,
                  std::vector<Napi::Value> keepAlive) {
    if (mode == Mode::Start) {
      auto started = std::make_shared<Started>();
      for (auto& value : keepAlive) started->held.push_back(Napi::Persistent(value.As<Napi::Object>()));
      Started* raw = started.get();  // outlives the thread: ~Started joins it first
      started->thread = std::thread([raw, body = std::move(body)] {
        try {
          body();
        } catch (const std::exception& e) {
          raw->error = e.what();
          if (raw->error.empty()) raw->error = "the collective failed";
        }
      });
      auto handle = Napi::Object::New(info.Env());
      handle.Set("wait", Napi::Function::New(info.Env(), [started](const Napi::CallbackInfo& call) -> Napi::Value {
                   if (started->thread.joinable()) started->thread.join();
                   for (auto& ref : started->held) ref.Reset();
                   started->held.clear();
                   if (!started->error.empty()) throw Napi::Error::New(call.Env(), started->error);
                   return call.Env().Undefined();
                 }));
      return handle;
    }
    if (mode == Mode::Promise) {
      auto* worker = new CollectiveWorker(info.Env(), std::move(body), std::move(keepAlive));
      auto promise = worker->promise();
      worker->Queue();
      return promise;
    }
    try {
      body();
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
    return info.Env().Undefined();
  }

  static Mode modeOf(const Napi::CallbackInfo& info, size_t index) {
    if (info.Length() <= index) return Mode::Sync;
    if (info[index].IsString() && info[index].As<Napi::String>().Utf8Value() == "start") return Mode::Start;
    return info[index].IsBoolean() && info[index].As<Napi::Boolean>().Value() ? Mode::Promise : Mode::Sync;
  }

  Napi::Value connect(const Napi::CallbackInfo& info) {
    auto group = group_;
    return run(info, Mode::Sync, [group] { group->connect(); }, {});
  }

  Napi::Value connectAsync(const Napi::CallbackInfo& info) {
    auto group = group_;
    return run(info, Mode::Promise, [group] { group->connect(); }, {});
  }

  // allReduce(data, op, halfFormat, async)
  Napi::Value allReduce(const Napi::CallbackInfo& info) {
    View v = viewOf(info[0], info[2]);
    ReduceOp op = reduceOpOf(info[1]);
    auto group = group_;
    uint32_t tag = group->nextTag();
    return run(
        info, modeOf(info, 3),
        [group, v, op, tag] { group->guarded("allReduce", [&] { group->allReduce(v.data, v.count, v.type, op, tag); }); },
        {info[0]});
  }

  // allGather(input, output, async)
  Napi::Value allGather(const Napi::CallbackInfo& info) {
    View in = viewOf(info[0], info.Env().Undefined());
    View out = viewOf(info[1], info.Env().Undefined());
    auto group = group_;
    if (out.bytes != in.bytes * static_cast<size_t>(group->worldSize()))
      throw Napi::RangeError::New(info.Env(), "allGather: the output must hold worldSize times the input");
    uint32_t tag = group->nextTag();
    return run(
        info, modeOf(info, 2),
        [group, in, out, tag] { group->guarded("allGather", [&] { group->allGather(in.data, out.data, in.bytes, tag); }); },
        {info[0], info[1]});
  }

  // reduceScatter(input, output, op, halfFormat, async)
  Napi::Value reduceScatter(const Napi::CallbackInfo& info) {
    View in = viewOf(info[0], info[3]);
    View out = viewOf(info[1], info[3]);
    ReduceOp op = reduceOpOf(info[2]);
    auto group = group_;
    if (in.count != out.count * static_cast<size_t>(group->worldSize()))
      throw Napi::RangeError::New(info.Env(), "reduceScatter: the input must hold worldSize times the output");
    uint32_t tag = group->nextTag();
    return run(
        info, modeOf(info, 4),
        [group, in, out, op, tag] {
          group->guarded("reduceScatter", [&] { group->reduceScatter(in.data, out.data, out.count, in.type, op, tag); });
        },
        {info[0], info[1]});
  }

  // broadcast(data, root, async)
  Napi::Value broadcast(const Napi::CallbackInfo& info) {
    View v = viewOf(info[0], info.Env().Undefined());
    int root = info[1].As<Napi::Number>().Int32Value();
    auto group = group_;
    uint32_t tag = group->nextTag();
    return run(
        info, modeOf(info, 2),
        [group, v, root, tag] { group->guarded("broadcast", [&] { group->broadcast(v.data, v.bytes, root, tag); }); },
        {info[0]});
  }

  // barrier(async)
  Napi::Value barrier(const Napi::CallbackInfo& info) {
    auto group = group_;
    uint32_t tag = group->nextTag();
    return run(
        info, modeOf(info, 0), [group, tag] { group->guarded("barrier", [&] { group->barrier(tag); }); }, {});
  }

  Napi::Value close(const Napi::CallbackInfo& info) {
    group_->close();
    return info.Env().Undefined();
  }

  Napi::Value storePort(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), group_->storePort()); }

  Napi::Value storeAddress(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), group_->storeAddress());
  }

  std::shared_ptr<Group> group_;
};

}  // namespace
}  // namespace fulmen

static Napi::Object initAddon(Napi::Env env, Napi::Object exports) {
  exports.Set("Group", fulmen::GroupWrap::define(env));
  return exports;
}

NODE_API_MODULE(fulmen_gloo, initAddon)
