// N-API surface of the host engine: kernels take typed arrays that tfjs's CPU-side storage already holds, so
// no data moves between the backend and the engine.
#include <napi.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "attention.h"
#include "conv.h"
#include "elementwise.h"
#include "fused_layers.h"
#include "gemm.h"
#include "pool.h"
#include "rnn.h"
#include "transpose.h"
#include "optimizer.h"
#include "rows.h"

namespace {

const float* floats(const Napi::Value& v) {
  auto array = v.As<Napi::Float32Array>();
  return array.Data();
}

// batchMatMul(a, b, out, batchA, batchB, M, N, K, transA, transB)
Napi::Value batchMatMul(const Napi::CallbackInfo& info) {
  auto out = info[2].As<Napi::Float32Array>();
  auto num = [&](size_t i) { return info[i].As<Napi::Number>().Int32Value(); };
  const int batchA = num(3), batchB = num(4), M = num(5), N = num(6), K = num(7);
  const bool transA = info[8].As<Napi::Boolean>().Value();
  const bool transB = info[9].As<Napi::Boolean>().Value();
  const size_t batch = static_cast<size_t>(batchA > batchB ? batchA : batchB);
  if (info[0].As<Napi::Float32Array>().ElementLength() != static_cast<size_t>(batchA) * M * K ||
      info[1].As<Napi::Float32Array>().ElementLength() != static_cast<size_t>(batchB) * K * N ||
      out.ElementLength() != batch * M * N)
    throw Napi::RangeError::New(info.Env(), "batchMatMul: array sizes do not match the shapes");
  fulmen::hostBatchMatMul(floats(info[0]), floats(info[1]), out.Data(), batchA, batchB, M, N, K, transA, transB);
  return info.Env().Undefined();
}

std::vector<int64_t> shapeOf(const Napi::Value& v) {
  auto array = v.As<Napi::Array>();
  std::vector<int64_t> shape(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) shape[i] = array.Get(i).As<Napi::Number>().Int64Value();
  return shape;
}

// binary(op, a, aShape, b, bShape, out, outShape)
Napi::Value binary(const Napi::CallbackInfo& info) {
  auto op = static_cast<fulmen::BinaryOp>(info[0].As<Napi::Number>().Int32Value());
  fulmen::hostBinary(op, floats(info[1]), shapeOf(info[2]), floats(info[3]), shapeOf(info[4]),
                     info[5].As<Napi::Float32Array>().Data(), shapeOf(info[6]));
  return info.Env().Undefined();
}

// compare(op, a, aShape, b, bShape, out: Uint8Array, outShape)
Napi::Value compare(const Napi::CallbackInfo& info) {
  auto op = static_cast<fulmen::CompareOp>(info[0].As<Napi::Number>().Int32Value());
  fulmen::hostCompare(op, floats(info[1]), shapeOf(info[2]), floats(info[3]), shapeOf(info[4]),
                      info[5].As<Napi::Uint8Array>().Data(), shapeOf(info[6]));
  return info.Env().Undefined();
}

// select(condition: Uint8Array, t, e, out)
Napi::Value selectWhere(const Napi::CallbackInfo& info) {
  auto out = info[3].As<Napi::Float32Array>();
  fulmen::hostSelect(info[0].As<Napi::Uint8Array>().Data(), floats(info[1]), floats(info[2]), out.Data(),
                     out.ElementLength());
  return info.Env().Undefined();
}

// clip(x, out, lo, hi)
Napi::Value clip(const Napi::CallbackInfo& info) {
  auto out = info[1].As<Napi::Float32Array>();
  fulmen::hostClip(floats(info[0]), out.Data(), out.ElementLength(), info[2].As<Napi::Number>().DoubleValue(),
                   info[3].As<Napi::Number>().DoubleValue());
  return info.Env().Undefined();
}

// addN(inputs: Float32Array[], out)
Napi::Value addN(const Napi::CallbackInfo& info) {
  auto list = info[0].As<Napi::Array>();
  std::vector<const float*> inputs(list.Length());
  for (uint32_t i = 0; i < list.Length(); i++) inputs[i] = floats(list.Get(i));
  auto out = info[1].As<Napi::Float32Array>();
  fulmen::hostAddN(inputs.data(), inputs.size(), out.Data(), out.ElementLength());
  return info.Env().Undefined();
}

// extremumMiddle(x, out, outer, reduce, inner, max)
Napi::Value extremumMiddle(const Napi::CallbackInfo& info) {
  auto num = [&](size_t i) { return info[i].As<Napi::Number>().Int64Value(); };
  fulmen::hostExtremumMiddle(floats(info[0]), info[1].As<Napi::Float32Array>().Data(), num(2), num(3), num(4),
                             info[5].As<Napi::Boolean>().Value());
  return info.Env().Undefined();
}

// unary(op, x, out)
Napi::Value unary(const Napi::CallbackInfo& info) {
  auto op = static_cast<fulmen::UnaryOp>(info[0].As<Napi::Number>().Int32Value());
  auto out = info[2].As<Napi::Float32Array>();
  fulmen::hostUnary(op, floats(info[1]), out.Data(), out.ElementLength());
  return info.Env().Undefined();
}

// step(x, out, alpha)
Napi::Value step(const Napi::CallbackInfo& info) {
  auto out = info[1].As<Napi::Float32Array>();
  fulmen::hostStep(floats(info[0]), out.Data(), out.ElementLength(), info[2].As<Napi::Number>().FloatValue());
  return info.Env().Undefined();
}

// sumMiddle(x, out, outer, reduce, inner, mean)
Napi::Value sumMiddle(const Napi::CallbackInfo& info) {
  auto num = [&](size_t i) { return info[i].As<Napi::Number>().Int64Value(); };
  const bool mean = info.Length() > 5 && info[5].As<Napi::Boolean>().Value();
  (mean ? fulmen::hostMeanMiddle : fulmen::hostSumMiddle)(floats(info[0]), info[1].As<Napi::Float32Array>().Data(),
                                                          num(2), num(3), num(4));
  return info.Env().Undefined();
}

fulmen::Conv2DShape convShapeOf(const Napi::Value& v) {
  auto a = v.As<Napi::Array>();
  auto at = [&](uint32_t i) { return a.Get(i).As<Napi::Number>().Int64Value(); };
  return {at(0), at(1), at(2),  at(3),  at(4),  at(5),  at(6),  at(7),
          at(8), at(9), at(10), at(11), at(12), at(13), at(14), at(15)};
}

// conv2d(kind, first, second, out, shape): kind 0 forward (x, filter), 1 input grad (dy, filter), 2 filter grad (x, dy)
Napi::Value conv2d(const Napi::CallbackInfo& info) {
  const int kind = info[0].As<Napi::Number>().Int32Value();
  const auto shape = convShapeOf(info[4]);
  float* out = info[3].As<Napi::Float32Array>().Data();
  if (kind == 0) fulmen::hostConv2D(floats(info[1]), floats(info[2]), out, shape);
  else if (kind == 1) fulmen::hostConv2DBackpropInput(floats(info[1]), floats(info[2]), out, shape);
  else fulmen::hostConv2DBackpropFilter(floats(info[1]), floats(info[2]), out, shape);
  return info.Env().Undefined();
}

// transpose(x, shape, perm, out): 4-byte elements of any typed array
Napi::Value transpose(const Napi::CallbackInfo& info) {
  auto in = info[0].As<Napi::TypedArray>();
  auto out = info[3].As<Napi::TypedArray>();
  const auto* x = reinterpret_cast<const uint32_t*>(static_cast<const char*>(in.ArrayBuffer().Data()) + in.ByteOffset());
  auto* o = reinterpret_cast<uint32_t*>(static_cast<char*>(out.ArrayBuffer().Data()) + out.ByteOffset());
  fulmen::hostTranspose(x, shapeOf(info[1]), shapeOf(info[2]), o);
  return info.Env().Undefined();
}

// copySlabs(src, srcStart, srcRow, dst, dstStart, dstRow, rows, slab): 4-byte elements of any typed arrays,
// every slab checked to lie inside both arrays.
Napi::Value copySlabs(const Napi::CallbackInfo& info) {
  auto in = info[0].As<Napi::TypedArray>();
  auto out = info[3].As<Napi::TypedArray>();
  auto num = [&](size_t i) { return info[i].As<Napi::Number>().Int64Value(); };
  const int64_t srcStart = num(1), srcRow = num(2), dstStart = num(4), dstRow = num(5), rows = num(6), slab = num(7);
  const auto inside = [](int64_t start, int64_t row, int64_t rows, int64_t slab, size_t length) {
    if (rows == 0 || slab == 0) return true;
    const int64_t last = start + (rows - 1) * row;
    return start >= 0 && row >= 0 && slab >= 0 && last + slab <= static_cast<int64_t>(length);
  };
  if (in.ElementSize() != 4 || out.ElementSize() != 4 || rows < 0 ||
      !inside(srcStart, srcRow, rows, slab, in.ElementLength()) ||
      !inside(dstStart, dstRow, rows, slab, out.ElementLength()))
    throw Napi::RangeError::New(info.Env(), "copySlabs: the slabs do not fit the arrays");
  const auto* x = reinterpret_cast<const uint32_t*>(static_cast<const char*>(in.ArrayBuffer().Data()) + in.ByteOffset());
  auto* o = reinterpret_cast<uint32_t*>(static_cast<char*>(out.ArrayBuffer().Data()) + out.ByteOffset());
  fulmen::hostCopySlabs(x, srcStart, srcRow, o, dstStart, dstRow, rows, slab);
  return info.Env().Undefined();
}

fulmen::Pool2DShape poolShapeOf(const Napi::Value& v) {
  auto a = v.As<Napi::Array>();
  auto at = [&](uint32_t i) { return a.Get(i).As<Napi::Number>().Int64Value(); };
  return {at(0), at(1), at(2), at(3), at(4), at(5), at(6), at(7), at(8), at(9), at(10), at(11)};
}

// avgPool(x, out, shape) and avgPoolGrad(dy, dx, shape)
Napi::Value avgPool(const Napi::CallbackInfo& info) {
  fulmen::hostAvgPool(floats(info[0]), info[1].As<Napi::Float32Array>().Data(), poolShapeOf(info[2]));
  return info.Env().Undefined();
}

Napi::Value avgPoolGrad(const Napi::CallbackInfo& info) {
  fulmen::hostAvgPoolGrad(floats(info[0]), info[1].As<Napi::Float32Array>().Data(), poolShapeOf(info[2]));
  return info.Env().Undefined();
}

// maxPool(x, out, shape) and maxPoolGrad(dy, x, dx, shape)
Napi::Value maxPool(const Napi::CallbackInfo& info) {
  fulmen::hostMaxPool(floats(info[0]), info[1].As<Napi::Float32Array>().Data(), poolShapeOf(info[2]));
  return info.Env().Undefined();
}

Napi::Value maxPoolGrad(const Napi::CallbackInfo& info) {
  fulmen::hostMaxPoolGrad(floats(info[0]), floats(info[1]), info[2].As<Napi::Float32Array>().Data(),
                          poolShapeOf(info[3]));
  return info.Env().Undefined();
}

// softmax(x, out, rows, cols)
Napi::Value softmax(const Napi::CallbackInfo& info) {
  fulmen::hostSoftmax(floats(info[0]), info[1].As<Napi::Float32Array>().Data(), info[2].As<Napi::Number>().Int64Value(),
                      info[3].As<Napi::Number>().Int64Value());
  return info.Env().Undefined();
}

// unsortedSegmentSum(x, ids, out, n, inner, numSegments)
Napi::Value unsortedSegmentSum(const Napi::CallbackInfo& info) {
  auto num = [&](size_t i) { return info[i].As<Napi::Number>().Int64Value(); };
  fulmen::hostUnsortedSegmentSum(floats(info[0]), info[1].As<Napi::Int32Array>().Data(),
                                 info[2].As<Napi::Float32Array>().Data(), num(3), num(4), num(5));
  return info.Env().Undefined();
}

float* maybeFloats(const Napi::Value& v) { return v.IsTypedArray() ? v.As<Napi::Float32Array>().Data() : nullptr; }

// adamUpdate(param, grad, expAvg, expAvgSq, maxOrNull, paramOut, expAvgOut, expAvgSqOut, maxOutOrNull, hyper)
// hyper = [lr, beta1, beta2, eps, weightDecay, stepSize, biasCorrection2Sqrt, decoupled, amsgrad, maximize]
Napi::Value adamUpdate(const Napi::CallbackInfo& info) {
  auto hyper = info[9].As<Napi::Array>();
  auto at = [&](uint32_t i) { return hyper.Get(i).As<Napi::Number>().DoubleValue(); };
  const double v[] = {at(0), at(1), at(2), at(3), at(4), at(5), at(6), at(7), at(8), at(9)};
  const fulmen::AdamStep h = fulmen::adamStepOf(v);
  auto out = info[5].As<Napi::Float32Array>();
  fulmen::hostAdamUpdate(floats(info[0]), floats(info[1]), floats(info[2]), floats(info[3]), maybeFloats(info[4]),
                         out.Data(), info[6].As<Napi::Float32Array>().Data(), info[7].As<Napi::Float32Array>().Data(),
                         maybeFloats(info[8]), out.ElementLength(), h);
  return info.Env().Undefined();
}

// sgdUpdate(param, grad, bufferOrNull, paramOut, bufferOutOrNull, hyper)
// hyper = [lr, momentum, dampening, weightDecay, nesterov, maximize, hasBuffer]
Napi::Value sgdUpdate(const Napi::CallbackInfo& info) {
  auto hyper = info[5].As<Napi::Array>();
  auto at = [&](uint32_t i) { return hyper.Get(i).As<Napi::Number>().DoubleValue(); };
  const double v[] = {at(0), at(1), at(2), at(3), at(4), at(5), at(6)};
  const fulmen::SgdStep h = fulmen::sgdStepOf(v);
  auto out = info[3].As<Napi::Float32Array>();
  fulmen::hostSgdUpdate(floats(info[0]), floats(info[1]), maybeFloats(info[2]), out.Data(), maybeFloats(info[4]),
                        out.ElementLength(), h);
  return info.Env().Undefined();
}

// rmspropUpdate(param, grad, squareAvg, gradAvg|null, buffer|null, paramOut, squareAvgOut, gradAvgOut|null,
//               bufferOut|null, [lr, alpha, eps, weightDecay, momentum, centered, maximize])
Napi::Value rmspropUpdate(const Napi::CallbackInfo& info) {
  auto hyper = info[9].As<Napi::Array>();
  auto at = [&](uint32_t i) { return hyper.Get(i).As<Napi::Number>().DoubleValue(); };
  const double v[] = {at(0), at(1), at(2), at(3), at(4), at(5), at(6)};
  const fulmen::RmspropStep h = fulmen::rmspropStepOf(v);
  auto out = info[5].As<Napi::Float32Array>();
  fulmen::hostRmspropUpdate(floats(info[0]), floats(info[1]), floats(info[2]), maybeFloats(info[3]),
                            maybeFloats(info[4]), out.Data(), info[6].As<Napi::Float32Array>().Data(),
                            maybeFloats(info[7]), maybeFloats(info[8]), out.ElementLength(), h);
  return info.Env().Undefined();
}

// adagradUpdate(param, grad, sum, paramOut, sumOut, [clr, eps, weightDecay, maximize])
Napi::Value adagradUpdate(const Napi::CallbackInfo& info) {
  auto hyper = info[5].As<Napi::Array>();
  auto at = [&](uint32_t i) { return hyper.Get(i).As<Napi::Number>().DoubleValue(); };
  const double v[] = {at(0), at(1), at(2), at(3)};
  const fulmen::AdagradStep h = fulmen::adagradStepOf(v);
  auto out = info[3].As<Napi::Float32Array>();
  fulmen::hostAdagradUpdate(floats(info[0]), floats(info[1]), floats(info[2]), out.Data(),
                            info[4].As<Napi::Float32Array>().Data(), out.ElementLength(), h);
  return info.Env().Undefined();
}

// gelu(x, y) and geluGrad(dy, x, dx)
Napi::Value gelu(const Napi::CallbackInfo& info) {
  auto y = info[1].As<Napi::Float32Array>();
  fulmen::hostGelu(floats(info[0]), y.Data(), static_cast<int64_t>(y.ElementLength()));
  return info.Env().Undefined();
}

Napi::Value geluGrad(const Napi::CallbackInfo& info) {
  auto dx = info[2].As<Napi::Float32Array>();
  fulmen::hostGeluGrad(floats(info[0]), floats(info[1]), dx.Data(), static_cast<int64_t>(dx.ElementLength()));
  return info.Env().Undefined();
}

// lstmCell(gates, c, h, cy, act, batch, hidden) and lstmCellGrad(dh, dcy, c, act, out, batch, hidden, wrtGates)
Napi::Value lstmCell(const Napi::CallbackInfo& info) {
  fulmen::hostLstmCell(floats(info[0]), floats(info[1]), info[2].As<Napi::Float32Array>().Data(),
                       info[3].As<Napi::Float32Array>().Data(), info[4].As<Napi::Float32Array>().Data(),
                       info[5].As<Napi::Number>().Int64Value(), info[6].As<Napi::Number>().Int64Value());
  return info.Env().Undefined();
}

Napi::Value lstmCellGrad(const Napi::CallbackInfo& info) {
  fulmen::hostLstmCellGrad(floats(info[0]), floats(info[1]), floats(info[2]), floats(info[3]),
                           info[4].As<Napi::Float32Array>().Data(), info[5].As<Napi::Number>().Int64Value(),
                           info[6].As<Napi::Number>().Int64Value(), info[7].As<Napi::Boolean>().Value());
  return info.Env().Undefined();
}

// gruCell(gi, gh, h, hy, act, batch, hidden) and gruCellGrad(dhy, gh, h, act, out, batch, hidden, wrt)
Napi::Value gruCell(const Napi::CallbackInfo& info) {
  fulmen::hostGruCell(floats(info[0]), floats(info[1]), floats(info[2]), info[3].As<Napi::Float32Array>().Data(),
                      info[4].As<Napi::Float32Array>().Data(), info[5].As<Napi::Number>().Int64Value(),
                      info[6].As<Napi::Number>().Int64Value());
  return info.Env().Undefined();
}

Napi::Value gruCellGrad(const Napi::CallbackInfo& info) {
  fulmen::hostGruCellGrad(floats(info[0]), floats(info[1]), floats(info[2]), floats(info[3]),
                          info[4].As<Napi::Float32Array>().Data(), info[5].As<Napi::Number>().Int64Value(),
                          info[6].As<Napi::Number>().Int64Value(),
                          static_cast<fulmen::GruGradOf>(info[7].As<Napi::Number>().Int32Value()));
  return info.Env().Undefined();
}

// The shape arguments of the sequence kernels (steps, batch, hidden, reverse) from info[at..at+3], and a check
// that each array argument holds the elements its role needs (a mismatch would read or write out of bounds).
fulmen::RecurrenceShape recurrenceShape(const Napi::CallbackInfo& info, size_t at) {
  return {info[at].As<Napi::Number>().Int64Value(), info[at + 1].As<Napi::Number>().Int64Value(),
          info[at + 2].As<Napi::Number>().Int64Value(), info[at + 3].As<Napi::Boolean>().Value()};
}

void checkSizes(const Napi::CallbackInfo& info, const char* kernel, std::initializer_list<std::pair<size_t, int64_t>> sizes) {
  for (const auto& [index, elements] : sizes) {
    if (info[index].IsNull()) continue;
    if (info[index].As<Napi::Float32Array>().ElementLength() != static_cast<size_t>(elements))
      throw Napi::RangeError::New(info.Env(), std::string(kernel) + ": argument " + std::to_string(index) +
                                                  " has the wrong number of elements for its shape");
  }
}

float* mutableFloats(const Napi::Value& v) { return v.As<Napi::Float32Array>().Data(); }

// lstmSequence(gi, weightHh, biasHh|null, h0, c0, output, hN, cN, cells, act, steps, batch, hidden, reverse)
Napi::Value lstmSequence(const Napi::CallbackInfo& info) {
  const fulmen::RecurrenceShape s = recurrenceShape(info, 10);
  const int64_t T = s.steps, B = s.batch, H = s.hidden;
  checkSizes(info, "lstmSequence", {{0, T * B * 4 * H}, {1, 4 * H * H}, {2, 4 * H}, {3, B * H}, {4, B * H},
                                    {5, T * B * H}, {6, B * H}, {7, B * H}, {8, T * B * H}, {9, T * B * 5 * H}});
  fulmen::hostLstmSequence(floats(info[0]), floats(info[1]), maybeFloats(info[2]), floats(info[3]), floats(info[4]),
                           mutableFloats(info[5]), mutableFloats(info[6]), mutableFloats(info[7]),
                           mutableFloats(info[8]), mutableFloats(info[9]), s);
  return info.Env().Undefined();
}

// lstmSequenceGrad(dOutput, dhN, dcN, weightHh, h0, c0, output, cells, act, dgi, dWeightHh, dBiasHh, dh0, dc0,
//                  steps, batch, hidden, reverse)
Napi::Value lstmSequenceGrad(const Napi::CallbackInfo& info) {
  const fulmen::RecurrenceShape s = recurrenceShape(info, 14);
  const int64_t T = s.steps, B = s.batch, H = s.hidden;
  checkSizes(info, "lstmSequenceGrad",
             {{0, T * B * H}, {1, B * H}, {2, B * H}, {3, 4 * H * H}, {4, B * H}, {5, B * H}, {6, T * B * H},
              {7, T * B * H}, {8, T * B * 5 * H}, {9, T * B * 4 * H}, {10, 4 * H * H}, {11, 4 * H}, {12, B * H},
              {13, B * H}});
  fulmen::hostLstmSequenceGrad(floats(info[0]), floats(info[1]), floats(info[2]), floats(info[3]), floats(info[4]),
                               floats(info[5]), floats(info[6]), floats(info[7]), floats(info[8]),
                               mutableFloats(info[9]), mutableFloats(info[10]), mutableFloats(info[11]),
                               mutableFloats(info[12]), mutableFloats(info[13]), s);
  return info.Env().Undefined();
}

// gruSequence(gi, weightHh, biasHh|null, h0, output, hN, gh, act, steps, batch, hidden, reverse)
Napi::Value gruSequence(const Napi::CallbackInfo& info) {
  const fulmen::RecurrenceShape s = recurrenceShape(info, 8);
  const int64_t T = s.steps, B = s.batch, H = s.hidden;
  checkSizes(info, "gruSequence", {{0, T * B * 3 * H}, {1, 3 * H * H}, {2, 3 * H}, {3, B * H}, {4, T * B * H},
                                   {5, B * H}, {6, T * B * 3 * H}, {7, T * B * 3 * H}});
  fulmen::hostGruSequence(floats(info[0]), floats(info[1]), maybeFloats(info[2]), floats(info[3]),
                          mutableFloats(info[4]), mutableFloats(info[5]), mutableFloats(info[6]),
                          mutableFloats(info[7]), s);
  return info.Env().Undefined();
}

// gruSequenceGrad(dOutput, dhN, weightHh, h0, output, gh, act, dgi, dWeightHh, dBiasHh, dh0, steps, batch, hidden,
//                 reverse)
Napi::Value gruSequenceGrad(const Napi::CallbackInfo& info) {
  const fulmen::RecurrenceShape s = recurrenceShape(info, 11);
  const int64_t T = s.steps, B = s.batch, H = s.hidden;
  checkSizes(info, "gruSequenceGrad",
             {{0, T * B * H}, {1, B * H}, {2, 3 * H * H}, {3, B * H}, {4, T * B * H}, {5, T * B * 3 * H},
              {6, T * B * 3 * H}, {7, T * B * 3 * H}, {8, 3 * H * H}, {9, 3 * H}, {10, B * H}});
  fulmen::hostGruSequenceGrad(floats(info[0]), floats(info[1]), floats(info[2]), floats(info[3]), floats(info[4]),
                              floats(info[5]), floats(info[6]), mutableFloats(info[7]), mutableFloats(info[8]),
                              mutableFloats(info[9]), mutableFloats(info[10]), s);
  return info.Env().Undefined();
}

// The attention kernels' shape arguments from info[at..at+11]: outer, inner, L, S, E, Ev, the mask's four
// strides, scale, causal.
fulmen::AttentionShape attentionShape(const Napi::CallbackInfo& info, size_t at) {
  auto num = [&](size_t i) { return info[at + i].As<Napi::Number>().Int64Value(); };
  return {num(0), num(1), num(2), num(3), num(4), num(5), num(6), num(7), num(8), num(9),
          info[at + 10].As<Napi::Number>().FloatValue(), info[at + 11].As<Napi::Boolean>().Value()};
}

// The mask's element count for its strides (the largest offset plus one), 0 without one.
int64_t attentionBiasSize(const fulmen::AttentionShape& s) {
  return (s.outer - 1) * s.strideOuter + (s.inner - 1) * s.strideInner + (s.L - 1) * s.strideRow +
         (s.S - 1) * s.strideCol + 1;
}

// attention(q, k, v, bias|null, output, weights, outer, inner, L, S, E, Ev, strideOuter, strideInner, strideRow,
//           strideCol, scale, causal)
Napi::Value attention(const Napi::CallbackInfo& info) {
  const fulmen::AttentionShape s = attentionShape(info, 6);
  const int64_t N = s.outer * s.inner;
  checkSizes(info, "attention", {{0, N * s.L * s.E}, {1, N * s.S * s.E}, {2, N * s.S * s.Ev},
                                 {3, attentionBiasSize(s)}, {4, N * s.L * s.Ev}, {5, N * s.L * s.S}});
  fulmen::hostAttention(floats(info[0]), floats(info[1]), floats(info[2]), maybeFloats(info[3]),
                        mutableFloats(info[4]), mutableFloats(info[5]), s);
  return info.Env().Undefined();
}

// attentionGrad(dOutput, dWeights|null, q, k, v, weights, dq, dk, dv, dBias|null, outer, inner, L, S, E, Ev,
//               strideOuter, strideInner, strideRow, strideCol, scale, causal)
Napi::Value attentionGrad(const Napi::CallbackInfo& info) {
  const fulmen::AttentionShape s = attentionShape(info, 10);
  const int64_t N = s.outer * s.inner;
  checkSizes(info, "attentionGrad",
             {{0, N * s.L * s.Ev}, {1, N * s.L * s.S}, {2, N * s.L * s.E}, {3, N * s.S * s.E}, {4, N * s.S * s.Ev},
              {5, N * s.L * s.S}, {6, N * s.L * s.E}, {7, N * s.S * s.E}, {8, N * s.S * s.Ev},
              {9, attentionBiasSize(s)}});
  fulmen::hostAttentionGrad(floats(info[0]), maybeFloats(info[1]), floats(info[2]), floats(info[3]),
                            floats(info[4]), floats(info[5]), mutableFloats(info[6]), mutableFloats(info[7]),
                            mutableFloats(info[8]), maybeFloats(info[9]), s);
  return info.Env().Undefined();
}

// layerNorm(x, weight|null, bias|null, y, mean, rstd, rows, cols, eps)
Napi::Value layerNorm(const Napi::CallbackInfo& info) {
  fulmen::hostLayerNorm(floats(info[0]), maybeFloats(info[1]), maybeFloats(info[2]),
                        info[3].As<Napi::Float32Array>().Data(), info[4].As<Napi::Float32Array>().Data(),
                        info[5].As<Napi::Float32Array>().Data(), info[6].As<Napi::Number>().Int64Value(),
                        info[7].As<Napi::Number>().Int64Value(), info[8].As<Napi::Number>().DoubleValue());
  return info.Env().Undefined();
}

// layerNormGrad(dy, x, mean, rstd, weight|null, dx, dWeight|null, dBias|null, rows, cols)
Napi::Value layerNormGrad(const Napi::CallbackInfo& info) {
  fulmen::hostLayerNormGrad(floats(info[0]), floats(info[1]), floats(info[2]), floats(info[3]), maybeFloats(info[4]),
                            info[5].As<Napi::Float32Array>().Data(), maybeFloats(info[6]), maybeFloats(info[7]),
                            info[8].As<Napi::Number>().Int64Value(), info[9].As<Napi::Number>().Int64Value());
  return info.Env().Undefined();
}

Napi::Value setThreads(const Napi::CallbackInfo& info) {
  fulmen::hostSetThreads(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

// roundHalf(format, x, out): format 0 float16, 1 bfloat16
Napi::Value roundHalf(const Napi::CallbackInfo& info) {
  auto out = info[2].As<Napi::Float32Array>();
  fulmen::hostRoundHalf(info[0].As<Napi::Number>().Int32Value(), floats(info[1]), out.Data(), out.ElementLength());
  return info.Env().Undefined();
}

Napi::Value threads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fulmen::hostThreads()); }

}  // namespace

static Napi::Object initEngine(Napi::Env env, Napi::Object exports) {
  exports.Set("batchMatMul", Napi::Function::New(env, batchMatMul));
  exports.Set("binary", Napi::Function::New(env, binary));
  exports.Set("compare", Napi::Function::New(env, compare));
  exports.Set("select", Napi::Function::New(env, selectWhere));
  exports.Set("clip", Napi::Function::New(env, clip));
  exports.Set("addN", Napi::Function::New(env, addN));
  exports.Set("extremumMiddle", Napi::Function::New(env, extremumMiddle));
  exports.Set("unary", Napi::Function::New(env, unary));
  exports.Set("step", Napi::Function::New(env, step));
  exports.Set("sumMiddle", Napi::Function::New(env, sumMiddle));
  exports.Set("conv2d", Napi::Function::New(env, conv2d));
  exports.Set("transpose", Napi::Function::New(env, transpose));
  exports.Set("avgPool", Napi::Function::New(env, avgPool));
  exports.Set("avgPoolGrad", Napi::Function::New(env, avgPoolGrad));
  exports.Set("maxPool", Napi::Function::New(env, maxPool));
  exports.Set("maxPoolGrad", Napi::Function::New(env, maxPoolGrad));
  exports.Set("softmax", Napi::Function::New(env, softmax));
  exports.Set("copySlabs", Napi::Function::New(env, copySlabs));
  exports.Set("unsortedSegmentSum", Napi::Function::New(env, unsortedSegmentSum));
  exports.Set("adamUpdate", Napi::Function::New(env, adamUpdate));
  exports.Set("sgdUpdate", Napi::Function::New(env, sgdUpdate));
  exports.Set("rmspropUpdate", Napi::Function::New(env, rmspropUpdate));
  exports.Set("adagradUpdate", Napi::Function::New(env, adagradUpdate));
  exports.Set("lstmCell", Napi::Function::New(env, lstmCell));
  exports.Set("lstmCellGrad", Napi::Function::New(env, lstmCellGrad));
  exports.Set("gruCell", Napi::Function::New(env, gruCell));
  exports.Set("gruCellGrad", Napi::Function::New(env, gruCellGrad));
  exports.Set("attention", Napi::Function::New(env, attention));
  exports.Set("attentionGrad", Napi::Function::New(env, attentionGrad));
  exports.Set("lstmSequence", Napi::Function::New(env, lstmSequence));
  exports.Set("lstmSequenceGrad", Napi::Function::New(env, lstmSequenceGrad));
  exports.Set("gruSequence", Napi::Function::New(env, gruSequence));
  exports.Set("gruSequenceGrad", Napi::Function::New(env, gruSequenceGrad));
  exports.Set("gelu", Napi::Function::New(env, gelu));
  exports.Set("geluGrad", Napi::Function::New(env, geluGrad));
  exports.Set("layerNorm", Napi::Function::New(env, layerNorm));
  exports.Set("layerNormGrad", Napi::Function::New(env, layerNormGrad));
  exports.Set("setThreads", Napi::Function::New(env, setThreads));
  exports.Set("threads", Napi::Function::New(env, threads));
  exports.Set("roundHalf", Napi::Function::New(env, roundHalf));
  return exports;
}

NODE_API_MODULE(fulmen_engine, initEngine)
