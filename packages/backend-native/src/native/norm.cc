// Fused normalisation for channels-last tensors viewed as [N, S, C] (S = D*H*W):
// statistics per (sample, group of C/G channels) for GroupNorm (InstanceNorm is G = C,
// LayerNorm-over-space-and-channels is G = 1), or per channel across the batch for
// BatchNorm (`acrossBatch`). Forward and backward are two passes each over the data,
// against ~10 separate tfjs ops (moments, sub, mul, add, and their gradients) that each
// re-read the whole activation.
#include <omp.h>
#include <algorithm>
#include <cmath>
#include <vector>
#include "common.h"

namespace voxseg {
namespace {

struct Shape {
  int64_t n, s, c, g;
  bool acrossBatch;
  int64_t cg() const { return c / g; }
  int64_t stats() const { return (acrossBatch ? 1 : n) * g; }
  int64_t statIndex(int64_t ni, int64_t ci) const { return (acrossBatch ? 0 : ni) * g + ci / cg(); }
  double count() const { return static_cast<double>(acrossBatch ? n * s : s) * static_cast<double>(cg()); }
};

Shape ParseShape(const Napi::CallbackInfo& info, size_t i) {
  auto p = Ints(info, i, "norm shape");
  if (p.size() != 5) throw Napi::TypeError::New(info.Env(), "norm shape: expected [N, S, C, G, acrossBatch]");
  Shape sh{p[0], p[1], p[2], p[3], p[4] != 0};
  if (sh.g <= 0 || sh.c % sh.g != 0) {
    throw Napi::RangeError::New(info.Env(), "norm: channels " + std::to_string(sh.c) + " not divisible by groups " +
                                                std::to_string(sh.g));
  }
  return sh;
}

/**
 * For each sample n, accumulate K per-channel sums over the S rows: out[(n*K + k)*C + c].
 * `f(n, row, acc)` adds row `row` of sample n into acc[k*C + c]. Rows are taken in blocks
 * of 128 summed in float (vectorisable, and 128 terms keep float's error far below the
 * 1e-4 the kernels are held to), each block's sums then added into double per thread, and
 * the threads' doubles combined at the end.
 */
template <int K, typename F>
void ColumnSums(const Shape& sh, std::vector<double>& out, F f) {
  const int threads = omp_get_max_threads();
  const int64_t width = K * sh.c;
  const int64_t block = 128;
  const int64_t blocks = (sh.s + block - 1) / block;
  out.assign(static_cast<size_t>(sh.n * width), 0.0);
  std::vector<double> part(static_cast<size_t>(threads * width));
  for (int64_t n = 0; n < sh.n; ++n) {
    std::fill(part.begin(), part.end(), 0.0);
#pragma omp parallel if (sh.s * sh.c > 32768)
    {
      double* acc = part.data() + static_cast<size_t>(omp_get_thread_num()) * width;
      std::vector<float> blk(static_cast<size_t>(width));
#pragma omp for schedule(static)
      for (int64_t b = 0; b < blocks; ++b) {
        std::fill(blk.begin(), blk.end(), 0.f);
        const int64_t end = std::min(sh.s, (b + 1) * block);
        for (int64_t r = b * block; r < end; ++r) f(n, r, blk.data());
        for (int64_t k = 0; k < width; ++k) acc[k] += blk[k];
      }
    }
    for (int t = 0; t < threads; ++t)
      for (int64_t k = 0; k < width; ++k) out[n * width + k] += part[t * width + k];
  }
}

/** Sum per-(n, c) values into per-statistic (n or batch, group) totals. */
std::vector<double> GroupTotals(const Shape& sh, const std::vector<double>& nc, int K, int k,
                                const float* weight = nullptr) {
  std::vector<double> tot(static_cast<size_t>(sh.stats()), 0.0);
  for (int64_t n = 0; n < sh.n; ++n)
    for (int64_t c = 0; c < sh.c; ++c)
      tot[sh.statIndex(n, c)] += nc[(n * K + k) * sh.c + c] * (weight ? weight[c] : 1.0);
  return tot;
}

// normForward(x, gamma, beta, y, mean, variance, [N,S,C,G,acrossBatch], eps, slope)
// With a finite `slope`, y = leakyRelu(norm(x), slope) in the same pass.
Napi::Value Forward(const Napi::CallbackInfo& info) {
  const float* x = F32(info, 0, "norm x");
  const float* gamma = F32(info, 1, "norm gamma");
  const float* beta = F32(info, 2, "norm beta");
  float* y = F32(info, 3, "norm y");
  float* meanOut = F32(info, 4, "norm mean");
  float* varOut = F32(info, 5, "norm variance");
  Shape sh = ParseShape(info, 6);
  const double eps = info[7].As<Napi::Number>().DoubleValue();
  const double slopeArg = info.Length() > 8 && info[8].IsNumber() ? info[8].As<Napi::Number>().DoubleValue() : NAN;
  const bool act = std::isfinite(slopeArg);
  const float slope = static_cast<float>(slopeArg);
  const int64_t C = sh.c;
  if (static_cast<int64_t>(Len(info, 0)) != sh.n * sh.s * C || Len(info, 3) != Len(info, 0) ||
      static_cast<int64_t>(Len(info, 1)) != C || static_cast<int64_t>(Len(info, 2)) != C ||
      static_cast<int64_t>(Len(info, 4)) != sh.stats() || static_cast<int64_t>(Len(info, 5)) != sh.stats()) {
    throw Napi::RangeError::New(info.Env(), "norm forward: buffer sizes do not match [N,S,C,G] = [" +
                                                std::to_string(sh.n) + "," + std::to_string(sh.s) + "," +
                                                std::to_string(C) + "," + std::to_string(sh.g) + "]");
  }
  // Pass 1: means.
  std::vector<double> nc;
  ColumnSums<1>(sh, nc, [&](int64_t n, int64_t r, float* acc) {
    const float* row = x + (n * sh.s + r) * C;
    for (int64_t c = 0; c < C; ++c) acc[c] += row[c];
  });
  std::vector<double> mean = GroupTotals(sh, nc, 1, 0);
  for (auto& m : mean) m /= sh.count();
  // Pass 2: centred second moment (two-pass, like tfjs's moments, for precision).
  std::vector<float> mc(static_cast<size_t>(sh.n * C));
  for (int64_t n = 0; n < sh.n; ++n)
    for (int64_t c = 0; c < C; ++c) mc[n * C + c] = static_cast<float>(mean[sh.statIndex(n, c)]);
  ColumnSums<1>(sh, nc, [&](int64_t n, int64_t r, float* acc) {
    const float* row = x + (n * sh.s + r) * C;
    const float* m = mc.data() + n * C;
    for (int64_t c = 0; c < C; ++c) {
      const float d = row[c] - m[c];
      acc[c] += d * d;
    }
  });
  std::vector<double> var = GroupTotals(sh, nc, 1, 0);
  for (auto& v : var) v /= sh.count();
  for (int64_t p = 0; p < sh.stats(); ++p) {
    meanOut[p] = static_cast<float>(mean[p]);
    varOut[p] = static_cast<float>(var[p]);
  }
  // Pass 3: y = x * scale + shift per (n, c).
  std::vector<float> scale(static_cast<size_t>(sh.n * C)), shift(static_cast<size_t>(sh.n * C));
  for (int64_t n = 0; n < sh.n; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const int64_t p = sh.statIndex(n, c);
      const double rstd = 1.0 / std::sqrt(var[p] + eps);
      scale[n * C + c] = static_cast<float>(rstd * gamma[c]);
      shift[n * C + c] = static_cast<float>(beta[c] - mean[p] * rstd * gamma[c]);
    }
  const int64_t rows = sh.n * sh.s;
#pragma omp parallel for schedule(static) if (rows * C > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = r / sh.s;
    const float* a = scale.data() + n * C;
    const float* b = shift.data() + n * C;
    const float* xr = x + r * C;
    float* yr = y + r * C;
    if (act) {
      const float s = slope;  // a local: a shared OpenMP variable would be reloaded
      for (int64_t c = 0; c < C; ++c) {
        const float v = xr[c] * a[c] + b[c];
        yr[c] = v * (v < 0.f ? s : 1.f);  // a select (vectorises); exactly slope * v, as LeakyReLU
      }
    } else {
      for (int64_t c = 0; c < C; ++c) yr[c] = xr[c] * a[c] + b[c];
    }
  }
  return info.Env().Undefined();
}

// normBackward(dy, x, mean, variance, gamma, dx, dgamma, dbeta, [N,S,C,G,acrossBatch], eps, y, slope)
// With `y` (the activated output) and a finite `slope`, dy is first taken through the
// LeakyReLU (y > 0 ? dy : slope * dy; sign(y) = sign(norm(x)) for slope > 0) on the fly.
Napi::Value Backward(const Napi::CallbackInfo& info) {
  const float* dy = F32(info, 0, "norm dy");
  const float* x = F32(info, 1, "norm x");
  const float* meanIn = F32(info, 2, "norm mean");
  const float* varIn = F32(info, 3, "norm variance");
  const float* gamma = F32(info, 4, "norm gamma");
  float* dx = F32(info, 5, "norm dx");
  float* dgamma = F32(info, 6, "norm dgamma");
  float* dbeta = F32(info, 7, "norm dbeta");
  Shape sh = ParseShape(info, 8);
  const double eps = info[9].As<Napi::Number>().DoubleValue();
  const float* yact = info.Length() > 11 && info[10].IsTypedArray() && info[11].IsNumber() ? F32(info, 10, "norm y") : nullptr;
  const float slope = yact ? info[11].As<Napi::Number>().FloatValue() : 1.f;
  const float oneMinusSlope = 1.f - slope;
  if (yact && Len(info, 10) != Len(info, 0)) throw Napi::RangeError::New(info.Env(), "norm backward: y and dy sizes differ");
  const int64_t C = sh.c;
  if (static_cast<int64_t>(Len(info, 0)) != sh.n * sh.s * C || Len(info, 1) != Len(info, 0) ||
      Len(info, 5) != Len(info, 0) || static_cast<int64_t>(Len(info, 2)) != sh.stats() ||
      static_cast<int64_t>(Len(info, 3)) != sh.stats() || static_cast<int64_t>(Len(info, 4)) != C ||
      static_cast<int64_t>(Len(info, 6)) != C || static_cast<int64_t>(Len(info, 7)) != C) {
    throw Napi::RangeError::New(info.Env(), "norm backward: buffer sizes do not match [N,S,C,G] = [" +
                                                std::to_string(sh.n) + "," + std::to_string(sh.s) + "," +
                                                std::to_string(C) + "," + std::to_string(sh.g) + "]");
  }
  std::vector<double> rstd(static_cast<size_t>(sh.stats()));
  for (int64_t p = 0; p < sh.stats(); ++p) rstd[p] = 1.0 / std::sqrt(static_cast<double>(varIn[p]) + eps);
  // Pass 1: per (n, c): A = sum dy, B = sum dy * (x - mean).
  std::vector<float> mc(static_cast<size_t>(sh.n * C));
  for (int64_t n = 0; n < sh.n; ++n)
    for (int64_t c = 0; c < C; ++c) mc[n * C + c] = meanIn[sh.statIndex(n, c)];
  std::vector<double> nc;
  // Two lambdas rather than a branch inside one: GCC left the fused loop scalar otherwise.
  if (yact) {
    ColumnSums<2>(sh, nc, [&](int64_t n, int64_t r, float* acc) {
      const int64_t off = (n * sh.s + r) * C;
      const float* __restrict g = dy + off;
      const float* __restrict xr = x + off;
      const float* __restrict yr = yact + off;
      const float* __restrict m = mc.data() + n * C;
      // Local copies: captured by reference they are reloaded each iteration (aliasing) and
      // the loop stays scalar.
      const float s0 = slope, s1 = oneMinusSlope;
      for (int64_t c = 0; c < C; ++c) {
        const float gc = g[c] * (s0 + s1 * static_cast<float>(yr[c] > 0.f));  // branch-free
        acc[c] += gc;
        acc[C + c] += gc * (xr[c] - m[c]);
      }
    });
  } else {
    ColumnSums<2>(sh, nc, [&](int64_t n, int64_t r, float* acc) {
      const int64_t off = (n * sh.s + r) * C;
      const float* __restrict g = dy + off;
      const float* __restrict xr = x + off;
      const float* __restrict m = mc.data() + n * C;
      for (int64_t c = 0; c < C; ++c) {
        acc[c] += g[c];
        acc[C + c] += g[c] * (xr[c] - m[c]);
      }
    });
  }
  // B' = sum dy * xhat = rstd * B.
  std::vector<double> bhat(static_cast<size_t>(sh.n * C));
  for (int64_t n = 0; n < sh.n; ++n)
    for (int64_t c = 0; c < C; ++c) bhat[n * C + c] = rstd[sh.statIndex(n, c)] * nc[(n * 2 + 1) * C + c];
  for (int64_t c = 0; c < C; ++c) {
    double gb = 0, gg = 0;
    for (int64_t n = 0; n < sh.n; ++n) {
      gb += nc[(n * 2) * C + c];
      gg += bhat[n * C + c];
    }
    dbeta[c] = static_cast<float>(gb);
    dgamma[c] = static_cast<float>(gg);
  }
  // Group means of dxhat and dxhat * xhat (dxhat = dy * gamma).
  std::vector<double> k1 = GroupTotals(sh, nc, 2, 0, gamma);
  std::vector<double> k2(static_cast<size_t>(sh.stats()), 0.0);
  for (int64_t n = 0; n < sh.n; ++n)
    for (int64_t c = 0; c < C; ++c) k2[sh.statIndex(n, c)] += bhat[n * C + c] * gamma[c];
  for (int64_t p = 0; p < sh.stats(); ++p) {
    k1[p] /= sh.count();
    k2[p] /= sh.count();
  }
  // dx = rstd * (gamma dy - k1 - xhat k2) = a dy + b (x - mean) + d, per (n, c).
  std::vector<float> ca(static_cast<size_t>(sh.n * C)), cb(ca.size()), cd(ca.size());
  for (int64_t n = 0; n < sh.n; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const int64_t p = sh.statIndex(n, c);
      ca[n * C + c] = static_cast<float>(rstd[p] * gamma[c]);
      cb[n * C + c] = static_cast<float>(-rstd[p] * rstd[p] * k2[p]);
      cd[n * C + c] = static_cast<float>(-rstd[p] * k1[p]);
    }
  const int64_t rows = sh.n * sh.s;
#pragma omp parallel for schedule(static) if (rows * C > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = r / sh.s;
    const float *a = ca.data() + n * C, *b = cb.data() + n * C, *d = cd.data() + n * C, *m = mc.data() + n * C;
    const float* g = dy + r * C;
    const float* xr = x + r * C;
    float* o = dx + r * C;
    if (yact) {
      const float* yr = yact + r * C;
      const float s0 = slope, s1 = oneMinusSlope;  // locals: shared OpenMP variables would be reloaded
      for (int64_t c = 0; c < C; ++c) {
        const float gc = g[c] * (s0 + s1 * static_cast<float>(yr[c] > 0.f));  // branch-free
        o[c] = a[c] * gc + b[c] * (xr[c] - m[c]) + d[c];
      }
    } else {
      for (int64_t c = 0; c < C; ++c) o[c] = a[c] * g[c] + b[c] * (xr[c] - m[c]) + d[c];
    }
  }
  return info.Env().Undefined();
}

}  // namespace

void InitNorm(Napi::Env env, Napi::Object exports) {
  exports.Set("normForward", Napi::Function::New(env, Forward));
  exports.Set("normBackward", Napi::Function::New(env, Backward));
}

}  // namespace voxseg
