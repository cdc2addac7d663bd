// Element-wise binary ops with broadcasting, select, leakyRelu and reductions, in OpenMP
// loops the compiler vectorises (-O3, no -march: CI may run on another CPU of the kind;
// -fno-trapping-math so `x < 0 ? a * x : x` becomes a vector select: with trapping maths GCC
// kept it a branch, which mispredicts half the time on activations and ran 4-6x slower).
//
// Broadcasting is prepared in TypeScript (elementwise.ts): dimensions are coalesced and
// each operand gets a stride per output dimension (0 where it broadcasts), so most calls
// arrive here as rank 1 or 2 and the inner loop runs over contiguous memory.
#include <omp.h>
#include <algorithm>
#include <cstdlib>
#include <cmath>
#include "common.h"

namespace voxseg {
namespace {

enum Op { ADD = 0, SUB = 1, MUL = 2, DIV = 3, MAX = 4, MIN = 5, SQDIFF = 6,
          GREATER = 10, GREATER_EQ = 11, LESS = 12, LESS_EQ = 13, EQUAL = 14 };

template <int OP>
inline float Apply(float a, float b) {
  if (OP == ADD) return a + b;
  if (OP == SUB) return a - b;
  if (OP == MUL) return a * b;
  if (OP == DIV) return a / b;
  if (OP == MAX) return a > b ? a : b;  // tfjs: NaN handling as in its cpu kernel is not relied on
  if (OP == MIN) return a < b ? a : b;
  if (OP == SQDIFF) return (a - b) * (a - b);
  return 0.f;
}

template <int OP>
inline uint8_t Compare(float a, float b) {
  if (OP == GREATER) return a > b;
  if (OP == GREATER_EQ) return a >= b;
  if (OP == LESS) return a < b;
  if (OP == LESS_EQ) return a <= b;
  return a == b;
}

/**
 * Loop over the output: rank r dims, operand strides sa/sb per dim. `f` must be a lambda
 * (a distinct type, so it is inlined and the inner loops vectorise); a function pointer
 * made every element an indirect call (a scalar multiply ran 10x slower than leakyRelu).
 */
template <typename Out, typename F>
void Broadcast(const float* a, const float* b, Out* o, const std::vector<int64_t>& dims,
               const std::vector<int64_t>& sa, const std::vector<int64_t>& sb, F f) {
  const int r = static_cast<int>(dims.size());
  const int64_t inner = dims[r - 1];
  int64_t rows = 1;
  for (int k = 0; k < r - 1; ++k) rows *= dims[k];
  const int64_t ia = sa[r - 1], ib = sb[r - 1];
  const bool big = rows * inner > 32768;
#pragma omp parallel for schedule(static) if (big)
  for (int64_t row = 0; row < rows; ++row) {
    int64_t rem = row, oa = 0, ob = 0;
    for (int k = r - 2; k >= 0; --k) {
      int64_t i = rem % dims[k];
      rem /= dims[k];
      oa += i * sa[k];
      ob += i * sb[k];
    }
    const float* pa = a + oa;
    const float* pb = b + ob;
    Out* po = o + row * inner;
    if (ia == 1 && ib == 1) {
      for (int64_t j = 0; j < inner; ++j) po[j] = f(pa[j], pb[j]);
    } else if (ia == 1) {
      const float vb = pb[0];
      for (int64_t j = 0; j < inner; ++j) po[j] = f(pa[j], vb);
    } else if (ib == 1) {
      const float va = pa[0];
      for (int64_t j = 0; j < inner; ++j) po[j] = f(va, pb[j]);
    } else {
      const Out v = f(pa[0], pb[0]);
      for (int64_t j = 0; j < inner; ++j) po[j] = v;
    }
  }
}

// binary(op, a, b, out, dims, stridesA, stridesB)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  const int op = info[0].As<Napi::Number>().Int32Value();
  const float* a = F32(info, 1, "binary a");
  const float* b = F32(info, 2, "binary b");
  auto dims = Ints(info, 4, "binary dims");
  auto sa = Ints(info, 5, "binary strides a");
  auto sb = Ints(info, 6, "binary strides b");
  if (dims.empty() || sa.size() != dims.size() || sb.size() != dims.size()) {
    throw Napi::RangeError::New(info.Env(), "binary: dims and strides must have the same non-zero length");
  }
  int64_t total = 1;
  for (auto d : dims) total *= d;
  if (static_cast<int64_t>(Len(info, 3)) != total) {
    throw Napi::RangeError::New(info.Env(), "binary: output has " + std::to_string(Len(info, 3)) +
                                                " elements, expected " + std::to_string(total) + " for dims " + Dims(dims));
  }
  if (op >= GREATER) {
    uint8_t* o = U8(info, 3, "compare out");
    switch (op) {
      case GREATER: Broadcast(a, b, o, dims, sa, sb, [](float x, float y) { return Compare<GREATER>(x, y); }); break;
      case GREATER_EQ: Broadcast(a, b, o, dims, sa, sb, [](float x, float y) { return Compare<GREATER_EQ>(x, y); }); break;
      case LESS: Broadcast(a, b, o, dims, sa, sb, [](float x, float y) { return Compare<LESS>(x, y); }); break;
      case LESS_EQ: Broadcast(a, b, o, dims, sa, sb, [](float x, float y) { return Compare<LESS_EQ>(x, y); }); break;
      case EQUAL: Broadcast(a, b, o, dims, sa, sb, [](float x, float y) { return Compare<EQUAL>(x, y); }); break;
      default: throw Napi::RangeError::New(info.Env(), "binary: unknown compare op " + std::to_string(op));
    }
  } else {
    float* o = F32(info, 3, "binary out");
    switch (op) {
      case ADD: Broadcast(a, b, o, dims, sa, sb, [](float x, float y) { return Apply<ADD>(x, y); }); break;
      case SUB: Broadcast(a, b, o, dims, sa, sb, [](float x, float y) { return Apply<SUB>(x, y); }); break;
      case MUL: Broadcast(a, b, o, dims, sa, sb, [](float x, float y) { return Apply<MUL>(x, y); }); break;
      case DIV: Broadcast(a, b, o, dims, sa, sb, [](float x, float y) { return Apply<DIV>(x, y); }); break;
      case MAX: Broadcast(a, b, o, dims, sa, sb, [](float x, float y) { return Apply<MAX>(x, y); }); break;
      case MIN: Broadcast(a, b, o, dims, sa, sb, [](float x, float y) { return Apply<MIN>(x, y); }); break;
      case SQDIFF: Broadcast(a, b, o, dims, sa, sb, [](float x, float y) { return Apply<SQDIFF>(x, y); }); break;
      default: throw Napi::RangeError::New(info.Env(), "binary: unknown op " + std::to_string(op));
    }
  }
  return info.Env().Undefined();
}

// select(cond, a, b, out): all the same size (tfjs's `where` broadcasts before Select).
Napi::Value Select(const Napi::CallbackInfo& info) {
  const uint8_t* c = U8(info, 0, "Select condition");
  const float* a = F32(info, 1, "Select a");
  const float* b = F32(info, 2, "Select b");
  float* o = F32(info, 3, "Select out");
  const int64_t n = static_cast<int64_t>(Len(info, 3));
  if (static_cast<int64_t>(Len(info, 0)) != n || static_cast<int64_t>(Len(info, 1)) != n ||
      static_cast<int64_t>(Len(info, 2)) != n) {
    throw Napi::RangeError::New(info.Env(), "Select: condition, a, b and out must have the same size");
  }
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) {
    const float av = a[i], bv = b[i];  // both loaded: a branch-free select vectorises
    o[i] = c[i] ? av : bv;
  }
  return info.Env().Undefined();
}

// leakyRelu(x, alpha, y)
Napi::Value LeakyRelu(const Napi::CallbackInfo& info) {
  const float* x = F32(info, 0, "LeakyRelu x");
  const float alpha = info[1].As<Napi::Number>().FloatValue();
  float* y = F32(info, 2, "LeakyRelu y");
  const int64_t n = static_cast<int64_t>(Len(info, 0));
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0.f ? alpha * x[i] : x[i];
  return info.Env().Undefined();
}

enum Unary { NEG = 0, RELU = 1, ABS = 2, EXP = 3, LOG1P = 4, SIGMOID = 5, SQUARE = 6, SQRT = 7, RSQRT = 8, LOG = 9 };

template <typename F>
void Map(const float* x, float* y, int64_t n, F f) {
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

// unary(op, x, y): float32 maths in float (tfjs's cpu computes in double and rounds; the
// two agree to a few ulps).
Napi::Value UnaryOp(const Napi::CallbackInfo& info) {
  const int op = info[0].As<Napi::Number>().Int32Value();
  const float* x = F32(info, 1, "unary x");
  float* y = F32(info, 2, "unary y");
  const int64_t n = static_cast<int64_t>(Len(info, 1));
  if (static_cast<int64_t>(Len(info, 2)) != n) throw Napi::RangeError::New(info.Env(), "unary: x and y sizes differ");
  switch (op) {
    case NEG: Map(x, y, n, [](float v) { return -v; }); break;
    case RELU: Map(x, y, n, [](float v) { return v != v ? v : (v < 0.f ? 0.f : v); }); break;
    case ABS: Map(x, y, n, [](float v) { return std::fabs(v); }); break;
    case EXP: Map(x, y, n, [](float v) { return std::exp(v); }); break;
    case LOG1P: Map(x, y, n, [](float v) { return std::log1p(v); }); break;
    case SIGMOID: Map(x, y, n, [](float v) { return 1.f / (1.f + std::exp(-v)); }); break;
    case SQUARE: Map(x, y, n, [](float v) { return v * v; }); break;
    case SQRT: Map(x, y, n, [](float v) { return std::sqrt(v); }); break;
    case RSQRT: Map(x, y, n, [](float v) { return 1.f / std::sqrt(v); }); break;
    case LOG: Map(x, y, n, [](float v) { return std::log(v); }); break;
    default: throw Napi::RangeError::New(info.Env(), "unary: unknown op " + std::to_string(op));
  }
  return info.Env().Undefined();
}

// step(x, alpha, y): y = x > 0 ? 1 : alpha, NaN stays NaN (tfjs's Step).
Napi::Value Step(const Napi::CallbackInfo& info) {
  const float* x = F32(info, 0, "Step x");
  const float alpha = info[1].As<Napi::Number>().FloatValue();
  float* y = F32(info, 2, "Step y");
  const int64_t n = static_cast<int64_t>(Len(info, 0));
  if (static_cast<int64_t>(Len(info, 2)) != n) throw Napi::RangeError::New(info.Env(), "Step: x and y sizes differ");
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] != x[i] ? x[i] : (x[i] > 0.f ? 1.f : alpha);
  return info.Env().Undefined();
}

// leakyReluGrad(dy, x, alpha, dx): dx = x > 0 ? dy : alpha * dy (tfjs's formula), one pass
// instead of Greater + Multiply + Select and their three full-size temporaries.
Napi::Value LeakyReluGrad(const Napi::CallbackInfo& info) {
  const float* dy = F32(info, 0, "LeakyRelu grad dy");
  const float* x = F32(info, 1, "LeakyRelu grad x");
  const float alpha = info[2].As<Napi::Number>().FloatValue();
  float* dx = F32(info, 3, "LeakyRelu grad dx");
  const int64_t n = static_cast<int64_t>(Len(info, 3));
  if (static_cast<int64_t>(Len(info, 0)) != n || static_cast<int64_t>(Len(info, 1)) != n) {
    throw Napi::RangeError::New(info.Env(), "LeakyRelu grad: dy, x and dx must have the same size");
  }
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) dx[i] = x[i] > 0.f ? dy[i] : dy[i] * alpha;
  return info.Env().Undefined();
}

// reduce(x, outer, red, inner, out, mean): out[o, i] = sum_r x[o, r, i] (divided by red if mean).
// Accumulates in double, as tfjs's cpu kernels do (JS numbers), so sums of millions of
// values agree with the cpu backend to float precision.
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  const float* x = F32(info, 0, "reduce x");
  const int64_t outer = info[1].As<Napi::Number>().Int64Value();
  const int64_t red = info[2].As<Napi::Number>().Int64Value();
  const int64_t inner = info[3].As<Napi::Number>().Int64Value();
  float* out = F32(info, 4, "reduce out");
  const bool mean = info[5].As<Napi::Boolean>().Value();
  if (static_cast<int64_t>(Len(info, 0)) != outer * red * inner || static_cast<int64_t>(Len(info, 4)) != outer * inner) {
    throw Napi::RangeError::New(info.Env(), "reduce: sizes do not match [" + std::to_string(outer) + "," +
                                                std::to_string(red) + "," + std::to_string(inner) + "]");
  }
  const double scale = mean && red > 0 ? 1.0 / static_cast<double>(red) : 1.0;
  if (inner == 1) {
    // Reduce contiguous rows: parallel over rows, or split one long row across threads.
    for (int64_t o = 0; o < outer; ++o) {
      const float* p = x + o * red;
      double s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static) if (red > 65536)
      for (int64_t r = 0; r < red; ++r) s += p[r];
      out[o] = static_cast<float>(s * scale);
    }
    return info.Env().Undefined();
  }
  // Column sums of [red, inner] blocks: each thread accumulates a slice of `red` into its
  // own row of partial sums, combined at the end (keeps the inner loop contiguous).
  const int threads = omp_get_max_threads();
  std::vector<double> part(static_cast<size_t>(threads) * inner);
  for (int64_t o = 0; o < outer; ++o) {
    std::fill(part.begin(), part.end(), 0.0);
    const float* base = x + o * red * inner;
#pragma omp parallel if (red * inner > 32768)
    {
      double* acc = part.data() + static_cast<size_t>(omp_get_thread_num()) * inner;
#pragma omp for schedule(static)
      for (int64_t r = 0; r < red; ++r) {
        const float* row = base + r * inner;
        for (int64_t i = 0; i < inner; ++i) acc[i] += row[i];
      }
    }
    for (int64_t i = 0; i < inner; ++i) {
      double s = 0;
      for (int t = 0; t < threads; ++t) s += part[static_cast<size_t>(t) * inner + i];
      out[o * inner + i] = static_cast<float>(s * scale);
    }
  }
  return info.Env().Undefined();
}

// copyRows(src, dst, rowDims, rowStrides, base, inner): dst row r (contiguous, `inner`
// floats) = src[base + sum idx_k * rowStrides[k] ...]. Serves Slice, SplitV and Concat:
// tfjs's cpu slice walks non-contiguous slices element by element.
Napi::Value CopyRows(const Napi::CallbackInfo& info) {
  const float* src = F32(info, 0, "copyRows src");
  float* dst = F32(info, 1, "copyRows dst");
  auto dims = Ints(info, 2, "copyRows dims");
  auto strides = Ints(info, 3, "copyRows strides");
  const int64_t base = info[4].As<Napi::Number>().Int64Value();
  const int64_t inner = info[5].As<Napi::Number>().Int64Value();
  const int64_t dstOffset = info[6].As<Napi::Number>().Int64Value();
  const int64_t dstRowStride = info[7].As<Napi::Number>().Int64Value();
  int64_t rows = 1;
  for (auto d : dims) rows *= d;
  const int r = static_cast<int>(dims.size());
  // Bounds: the last row must end inside both buffers.
  int64_t lastSrc = base;
  for (int k = 0; k < r; ++k) lastSrc += (dims[k] - 1) * strides[k];
  if (rows > 0 && (lastSrc + inner > static_cast<int64_t>(Len(info, 0)) ||
                   dstOffset + (rows - 1) * dstRowStride + inner > static_cast<int64_t>(Len(info, 1)))) {
    throw Napi::RangeError::New(info.Env(), "copyRows: slice outside the buffers (dims " + Dims(dims) + ")");
  }
#pragma omp parallel for schedule(static) if (rows * inner > 65536)
  for (int64_t row = 0; row < rows; ++row) {
    int64_t rem = row, off = base;
    for (int k = r - 1; k >= 0; --k) {
      off += (rem % dims[k]) * strides[k];
      rem /= dims[k];
    }
    std::copy(src + off, src + off + inner, dst + dstOffset + row * dstRowStride);
  }
  return info.Env().Undefined();
}

}  // namespace

void InitElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("select", Napi::Function::New(env, Select));
  exports.Set("leakyRelu", Napi::Function::New(env, LeakyRelu));
  exports.Set("reduce", Napi::Function::New(env, Reduce));
  exports.Set("leakyReluGrad", Napi::Function::New(env, LeakyReluGrad));
  exports.Set("step", Napi::Function::New(env, Step));
  exports.Set("unary", Napi::Function::New(env, UnaryOp));
  exports.Set("copyRows", Napi::Function::New(env, CopyRows));
}

}  // namespace voxseg
