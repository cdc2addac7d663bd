// Conv3D forward, backward-data and backward-weights over oneDNN.
//
// Two activation layouts, chosen per call by the caller (conv3d.ts, `layout`):
// - 0, channels-last (ndhwc): the tensors' own Float32Arrays are the primitives' memory;
//   oneDNN 2.6 has direct kernels for that layout, so no activation copies.
// - 1, blocked (nCdhw8c on AVX2, nCdhw16c on AVX-512): each activation is copied into a
//   scratch buffer in that layout by the addon's own copy (blocked.h) and the result copied
//   back, one sample at a time (so the scratch holds one sample's input and output side, not
//   the batch's). Measured faster for the U-Net's wide layers (README, "Training
//   convolution"). When oneDNN does not pick a plain blocked layout for both sides with a
//   non-reference kernel (e.g. channels not a multiple of the block), the call runs layout 0.
//
// Weights come
// in tfjs's layout [kd, kh, kw, in, out] (oneDNN's `dhwio`) and are reordered into the
// blocked layout the chosen primitive prefers (weights change every training step, so
// the reorder runs each call; its target buffer is cached). Primitives are cached by a
// key of every shape, stride, padding and dilation: the U-Net reuses a handful of them.
#include <dnnl.hpp>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <omp.h>
#include <memory>
#include <unordered_map>
#include <vector>
#include "blocked.h"
#include "common.h"
#include "onednn.h"

namespace voxseg {
using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

/** Geometry passed from JS: see conv3d.ts (`convParams`) for the order. */
struct Geom {
  int64_t n, id, ih, iw, ic, od, oh, ow, oc, kd, kh, kw;
  memory::dims strides, padL, padR, dil;
  std::string key;
  memory::dims src() const { return {n, ic, id, ih, iw}; }
  memory::dims dst() const { return {n, oc, od, oh, ow}; }
  memory::dims wei() const { return {oc, ic, kd, kh, kw}; }
  std::string describe() const {
    return "x [" + std::to_string(n) + "," + std::to_string(id) + "," + std::to_string(ih) + "," +
           std::to_string(iw) + "," + std::to_string(ic) + "] filter [" + std::to_string(kd) + "," +
           std::to_string(kh) + "," + std::to_string(kw) + "," + std::to_string(ic) + "," +
           std::to_string(oc) + "] y [" + std::to_string(n) + "," + std::to_string(od) + "," +
           std::to_string(oh) + "," + std::to_string(ow) + "," + std::to_string(oc) + "] strides " +
           Dims(strides) + " pads " + Dims(padL) + "/" + Dims(padR);
  }
};

Geom ParseGeom(const Napi::CallbackInfo& info, size_t i) {
  auto p = Ints(info, i, "conv3d params");
  if (p.size() != 24) throw Napi::TypeError::New(info.Env(), "conv3d params: expected 24 integers");
  Geom g{p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11],
         {p[12], p[13], p[14]}, {p[15], p[16], p[17]}, {p[18], p[19], p[20]},
         {p[21] - 1, p[22] - 1, p[23] - 1}, Dims(p)};
  return g;
}

struct Entry {
  convolution_forward::primitive_desc fwdPd;
  std::unique_ptr<convolution_forward> fwd;
  std::unique_ptr<memory> fwdWei;  // reordered weights for forward
  std::unique_ptr<convolution_backward_data::primitive_desc> bwdDataPd;
  std::unique_ptr<convolution_backward_data> bwdData;
  std::unique_ptr<memory> bwdDataWei;
  std::unique_ptr<convolution_backward_weights::primitive_desc> bwdWeiPd;
  std::unique_ptr<convolution_backward_weights> bwdWei;
  std::unique_ptr<memory> bwdWeiDiff;  // diff weights in the primitive's layout
  std::unique_ptr<memory> bwdWeiSrc, bwdWeiDst;  // x and dy reordered for backward-weights
  // Variants with a bias fused in (forward adds it, backward-weights also sums dy into it).
  std::unique_ptr<convolution_forward::primitive_desc> fwdBiasPd;
  std::unique_ptr<convolution_forward> fwdBias;
  std::unique_ptr<memory> fwdBiasWei;
  std::unique_ptr<convolution_backward_weights::primitive_desc> bwdWeiBiasPd;
  std::unique_ptr<convolution_backward_weights> bwdWeiBias;
  std::unique_ptr<memory> bwdWeiBiasDiff;
};

std::unordered_map<std::string, std::unique_ptr<Entry>>& Cache() {
  static std::unordered_map<std::string, std::unique_ptr<Entry>> c;
  return c;
}

Entry& Get(const Geom& g) {
  auto& c = Cache();
  auto it = c.find(g.key);
  if (it != c.end()) return *it->second;
  memory::desc src(g.src(), dt::f32, tag::ndhwc), dst(g.dst(), dt::f32, tag::ndhwc);
  memory::desc wei(g.wei(), dt::f32, tag::any);
  auto d = convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, src, wei,
                                     dst, g.strides, g.dil, g.padL, g.padR);
  auto e = std::make_unique<Entry>(Entry{convolution_forward::primitive_desc(d, Eng())});
  auto& ref = *e;
  c.emplace(g.key, std::move(e));
  return ref;
}

/** Reorder `from` (user layout) into `to` when layouts differ, else use `from` directly. */
memory Prepare(memory& from, std::unique_ptr<memory>& cached, const memory::desc& want) {
  if (from.get_desc() == want) return from;
  if (!cached) cached = std::make_unique<memory>(want, Eng());
  reorder(from, *cached).execute(Strm(), from, *cached);
  return *cached;
}

template <typename F>
void Guard(const Napi::CallbackInfo& info, const char* op, const Geom& g, F&& f) {
  try {
    f();
    Strm().wait();
  } catch (const dnnl::error& e) {
    throw Napi::Error::New(info.Env(), std::string(op) + " failed in oneDNN (" + e.what() + ") for " + g.describe());
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(info.Env(), std::string(op) + ": out of memory for the blocked-layout buffers, for " + g.describe());
  }
}

/** The optional `layout` argument at index i: 0 channels-last (default), 1 blocked. */
int LayoutArg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || info[i].IsUndefined()) return 0;
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "conv3d layout: expected 0 (channels-last) or 1 (blocked)");
  const int l = info[i].As<Napi::Number>().Int32Value();
  if (l != 0 && l != 1) throw Napi::RangeError::New(info.Env(), "conv3d layout: expected 0 (channels-last) or 1 (blocked), got " + std::to_string(l));
  return l;
}

// ---- blocked layout (layout 1) ---------------------------------------------------------------

enum class Kind { Fwd, FwdBias, BwdData, BwdWei, BwdWeiBias };

/**
 * One blocked-layout primitive for one sample (n = 1) of a geometry: the calls loop over the
 * batch, so the scratch buffers hold one sample's activations (at 128^3 a 64-channel input is
 * 537 MB per sample).
 */
struct BlockedEntry {
  bool ok = false;  // plain blocked layouts (same block) on both sides and a non-reference kernel
  int64_t block = 0;
  memory::desc in, out, wei;  // input side (x / dx), output side (y / dy), (diff) weights
  std::unique_ptr<primitive> prim;
  std::unique_ptr<memory> weiBuf;  // weights reorder target; backward-weights: the sum over samples
  std::unique_ptr<memory> weiTmp;  // backward-weights: the second and later samples' gradient
  std::string impl;
};

std::unordered_map<std::string, std::unique_ptr<BlockedEntry>>& BlockedCache() {
  static std::unordered_map<std::string, std::unique_ptr<BlockedEntry>> c;
  return c;
}

BlockedEntry& GetBlocked(const Geom& g, Kind kind) {
  Geom o = g;
  o.n = 1;
  // g.key is "[n,...]": the one-sample primitive is the same for every batch size.
  const std::string key = std::to_string(static_cast<int>(kind)) + g.key.substr(g.key.find(','));
  auto& c = BlockedCache();
  auto it = c.find(key);
  if (it != c.end()) return *it->second;
  auto e = std::make_unique<BlockedEntry>();
  const bool withBias = kind == Kind::FwdBias || kind == Kind::BwdWeiBias;
  memory::desc src(o.src(), dt::f32, tag::any), dst(o.dst(), dt::f32, tag::any), wei(o.wei(), dt::f32, tag::any);
  memory::desc bias({o.oc}, dt::f32, tag::x);
  try {
    auto fd = withBias ? convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, src, wei, bias, dst,
                                                   o.strides, o.dil, o.padL, o.padR)
                       : convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, src, wei, dst,
                                                   o.strides, o.dil, o.padL, o.padR);
    convolution_forward::primitive_desc fpd(fd, Eng());
    if (kind == Kind::Fwd || kind == Kind::FwdBias) {
      e->in = fpd.src_desc(), e->out = fpd.dst_desc(), e->wei = fpd.weights_desc(), e->impl = fpd.impl_info_str();
      e->prim = std::make_unique<convolution_forward>(fpd);
    } else if (kind == Kind::BwdData) {
      auto d = convolution_backward_data::desc(algorithm::convolution_direct, src, wei, dst, o.strides, o.dil, o.padL, o.padR);
      convolution_backward_data::primitive_desc pd(d, Eng(), fpd);
      e->in = pd.diff_src_desc(), e->out = pd.diff_dst_desc(), e->wei = pd.weights_desc(), e->impl = pd.impl_info_str();
      e->prim = std::make_unique<convolution_backward_data>(pd);
    } else {
      auto d = withBias ? convolution_backward_weights::desc(algorithm::convolution_direct, src, wei, bias, dst, o.strides, o.dil,
                                                             o.padL, o.padR)
                        : convolution_backward_weights::desc(algorithm::convolution_direct, src, wei, dst, o.strides, o.dil,
                                                             o.padL, o.padR);
      convolution_backward_weights::primitive_desc pd(d, Eng(), fpd);
      e->in = pd.src_desc(), e->out = pd.diff_dst_desc(), e->wei = pd.diff_weights_desc(), e->impl = pd.impl_info_str();
      e->prim = std::make_unique<convolution_backward_weights>(pd);
    }
    e->block = PlainBlock(e->in, o.src());
    e->ok = e->block != 0 && PlainBlock(e->out, o.dst()) == e->block && e->impl.rfind("ref", 0) != 0;
  } catch (const dnnl::error&) {
    e->ok = false;  // no such primitive: the call runs channels-last
  }
  if (!e->ok) e->prim.reset();
  auto& ref = *e;
  c.emplace(key, std::move(e));
  return ref;
}

int64_t InSpatial(const Geom& g) { return g.id * g.ih * g.iw; }
int64_t OutSpatial(const Geom& g) { return g.od * g.oh * g.ow; }

/** y = conv(x, w) (+ b) on the blocked layout; false (nothing written) where it does not apply. */
bool ForwardBlocked(const Geom& g, float* x, float* w, float* b, float* y) {
  BlockedEntry& e = GetBlocked(g, b ? Kind::FwdBias : Kind::Fwd);
  if (!e.ok) return false;
  memory wu({g.wei(), dt::f32, tag::dhwio}, Eng(), w);
  memory wm = Prepare(wu, e.weiBuf, e.wei);  // once per call, shared by the samples
  auto* sb = static_cast<float*>(SrcScratch().get(e.in.get_size()));
  auto* db = static_cast<float*>(DstScratch().get(e.out.get_size()));
  memory sm(e.in, Eng(), sb), dm(e.out, Eng(), db);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, sm}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, dm}};
  if (b) args.insert({DNNL_ARG_BIAS, memory({{g.oc}, dt::f32, tag::x}, Eng(), b)});
  const int64_t is = InSpatial(g), os = OutSpatial(g);
  for (int64_t i = 0; i < g.n; ++i) {
    ToBlocked(x + i * is * g.ic, 1, is, g.ic, sb, 0, g.ic, e.block);
    e.prim->execute(Strm(), args);
    Strm().wait();
    FromBlocked(db, 1, os, g.oc, y + i * os * g.oc, e.block);
  }
  return true;
}

/** dx from dy and w on the blocked layout; false (nothing written) where it does not apply. */
bool BackwardDataBlocked(const Geom& g, float* dy, float* w, float* dx) {
  BlockedEntry& e = GetBlocked(g, Kind::BwdData);
  if (!e.ok) return false;
  memory wu({g.wei(), dt::f32, tag::dhwio}, Eng(), w);
  memory wm = Prepare(wu, e.weiBuf, e.wei);
  auto* sb = static_cast<float*>(SrcScratch().get(e.in.get_size()));
  auto* db = static_cast<float*>(DstScratch().get(e.out.get_size()));
  memory sm(e.in, Eng(), sb), dm(e.out, Eng(), db);
  const int64_t is = InSpatial(g), os = OutSpatial(g);
  for (int64_t i = 0; i < g.n; ++i) {
    ToBlocked(dy + i * os * g.oc, 1, os, g.oc, db, 0, g.oc, e.block);
    e.prim->execute(Strm(), {{DNNL_ARG_DIFF_DST, dm}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DIFF_SRC, sm}});
    Strm().wait();
    FromBlocked(sb, 1, is, g.ic, dx + i * is * g.ic, e.block);
  }
  return true;
}

/**
 * dw (and db) from x and dy on the blocked layout, summed over the samples (each sample's
 * gradient from the one-sample primitive, added in the primitive's weights layout, then one
 * reorder to tfjs's); false (nothing written) where it does not apply.
 */
bool BackwardFilterBlocked(const Geom& g, float* x, float* dy, float* dw, float* dbias) {
  BlockedEntry& e = GetBlocked(g, dbias ? Kind::BwdWeiBias : Kind::BwdWei);
  if (!e.ok) return false;
  if (!e.weiBuf) e.weiBuf = std::make_unique<memory>(e.wei, Eng());
  if (g.n > 1 && !e.weiTmp) e.weiTmp = std::make_unique<memory>(e.wei, Eng());
  auto* sb = static_cast<float*>(SrcScratch().get(e.in.get_size()));
  auto* db = static_cast<float*>(DstScratch().get(e.out.get_size()));
  memory sm(e.in, Eng(), sb), dm(e.out, Eng(), db);
  std::vector<float> biasTmp(dbias ? g.oc : 0);
  const memory::desc biasDesc({g.oc}, dt::f32, tag::x);
  const int64_t is = InSpatial(g), os = OutSpatial(g);
  const size_t nw = e.wei.get_size() / sizeof(float);
  auto* acc = static_cast<float*>(e.weiBuf->get_data_handle());
  for (int64_t i = 0; i < g.n; ++i) {
    ToBlocked(x + i * is * g.ic, 1, is, g.ic, sb, 0, g.ic, e.block);
    ToBlocked(dy + i * os * g.oc, 1, os, g.oc, db, 0, g.oc, e.block);
    memory& target = i == 0 ? *e.weiBuf : *e.weiTmp;
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, sm}, {DNNL_ARG_DIFF_DST, dm}, {DNNL_ARG_DIFF_WEIGHTS, target}};
    if (dbias) args.insert({DNNL_ARG_DIFF_BIAS, memory(biasDesc, Eng(), i == 0 ? dbias : biasTmp.data())});
    e.prim->execute(Strm(), args);
    Strm().wait();
    if (i > 0) {
      const auto* t = static_cast<const float*>(e.weiTmp->get_data_handle());
      for (size_t k = 0; k < nw; ++k) acc[k] += t[k];
      for (int64_t k = 0; k < static_cast<int64_t>(biasTmp.size()); ++k) dbias[k] += biasTmp[k];
    }
  }
  memory wu({g.wei(), dt::f32, tag::dhwio}, Eng(), dw);
  reorder(*e.weiBuf, wu).execute(Strm(), *e.weiBuf, wu);
  return true;
}

/**
 * Filter (and bias) gradient of a stride-1, undilated convolution as GEMMs on channels-last
 * activations; false (nothing written) for other geometries.
 *
 * Why: oneDNN 2.6 has no jit backward-weights kernel for 3-D convolutions on AVX2 (for any
 * activation layout it offers `x64:gemm:jit`, im2col + GEMM, or the reference kernel), and
 * that ran at 11-15 GFLOP/s at 64^3 and 128^3 alike (ONEDNN_VERBOSE, package README).
 *
 * How: per sample, x is copied with its zero padding into a scratch buffer xp of
 * (od + kd - 1) x (oh + kh - 1) x Wp voxels, Wp = ow + kw - 1, and dy into one of od x oh x Wp
 * voxels (zero in the last kw - 1 columns). Output voxel (d, h, w) is then row r = h * Wp + w
 * of plane d of dy, and the input voxel it meets at kernel offset (a, b, c) is row
 * r + b * Wp + c of plane d + a of xp: for each output plane and offset, the contribution is
 * one GEMM dW[a,b,c] += xp_rows^T (ic x K) * dy_rows (K x oc) over K = oh * Wp rows, with no
 * im2col copy. Rows of the padding columns (w >= ow) meet zero dy rows, so reading across a
 * row's end adds nothing. dW comes out in tfjs's [kd, kh, kw, ic, oc] order directly. The
 * rows are taken in chunks so that each chunk of xp and dy stays in cache across the
 * kd * kh * kw GEMMs; the planes are split over the threads, each summing into its own
 * dW (in double), then added. The scratch buffers are the blocked layout's (blocked.h).
 */
bool BackwardFilterGemm(const Geom& g, const float* x, const float* dy, float* dw, float* dbias) {
  if (g.strides != memory::dims{1, 1, 1} || g.dil != memory::dims{0, 0, 0}) return false;
  if (g.padL[0] < 0 || g.padL[1] < 0 || g.padL[2] < 0) return false;
  const int64_t Dp = g.od + g.kd - 1, Hp = g.oh + g.kh - 1, Wp = g.ow + g.kw - 1;
  // Stride 1: the padded input is exactly x with its pads (tfjs's geometry always is).
  if (Dp != g.id + g.padL[0] + g.padR[0] || Hp != g.ih + g.padL[1] + g.padR[1] || Wp != g.iw + g.padL[2] + g.padR[2]) return false;
  const int64_t ic = g.ic, oc = g.oc, taps = g.kd * g.kh * g.kw, nW = taps * ic * oc;
  const size_t xpElems = static_cast<size_t>((Dp * Hp * Wp + g.kw) * ic);
  const size_t dyElems = static_cast<size_t>(g.od * g.oh * Wp * oc);
  auto* xp = static_cast<float*>(SrcScratch().get(xpElems * sizeof(float)));
  auto* dp = static_cast<float*>(DstScratch().get(dyElems * sizeof(float)));
  const int T = omp_get_max_threads();
  // Per thread: the 27 (kd * kh * kw) GEMMs of one row chunk write a float partial (tmp), which
  // is added into a double sum (acc): dW sums up to n * od * oh * ow products per element
  // (8.4 million at 128^3, batch 2), and float sums of that length lose ~1e-5 relative.
  std::vector<double> acc(static_cast<size_t>(T) * nW, 0.0);
  std::vector<float> tmp(static_cast<size_t>(T) * nW, 0.f);
  std::vector<double> bacc(static_cast<size_t>(T) * oc, 0.0);
  const int64_t K = g.oh * Wp, KC = 1024, chunks = (K + KC - 1) / KC;
  const int64_t lead = std::min(g.padL[2], Wp), copy = std::max<int64_t>(0, std::min(g.iw, Wp - lead));
  dnnl_status_t status = dnnl_success;
  std::memset(xp + Dp * Hp * Wp * ic, 0, g.kw * ic * sizeof(float));  // read past the last row, times zero dy
  for (int64_t n = 0; n < g.n; ++n) {
    // xp: x with its zero padding (rows of Wp voxels).
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < Dp * Hp; ++r) {
      const int64_t d = r / Hp - g.padL[0], h = r % Hp - g.padL[1];
      float* out = xp + r * Wp * ic;
      if (d < 0 || d >= g.id || h < 0 || h >= g.ih) {
        std::memset(out, 0, Wp * ic * sizeof(float));
        continue;
      }
      const float* in = x + (((n * g.id + d) * g.ih + h) * g.iw) * ic;
      std::memset(out, 0, lead * ic * sizeof(float));
      std::memcpy(out + lead * ic, in, copy * ic * sizeof(float));
      std::memset(out + (lead + copy) * ic, 0, (Wp - lead - copy) * ic * sizeof(float));
    }
    // dp: dy with Wp - ow zero columns per row; the bias gradient summed on the way.
#pragma omp parallel
    {
      double* b = bacc.data() + static_cast<size_t>(omp_get_thread_num()) * oc;
#pragma omp for schedule(static)
      for (int64_t r = 0; r < g.od * g.oh; ++r) {
        const float* in = dy + (n * g.od * g.oh + r) * g.ow * oc;
        float* out = dp + r * Wp * oc;
        std::memcpy(out, in, g.ow * oc * sizeof(float));
        std::memset(out + g.ow * oc, 0, (Wp - g.ow) * oc * sizeof(float));
        if (dbias) {
          for (int64_t w = 0; w < g.ow; ++w)
            for (int64_t o = 0; o < oc; ++o) b[o] += in[w * oc + o];
        }
      }
    }
#pragma omp parallel
    {
      float* C = tmp.data() + static_cast<size_t>(omp_get_thread_num()) * nW;
      double* S = acc.data() + static_cast<size_t>(omp_get_thread_num()) * nW;
#pragma omp for schedule(static)
      for (int64_t item = 0; item < g.od * chunks; ++item) {
        const int64_t d = item / chunks, k0 = (item % chunks) * KC, kc = std::min(KC, K - k0);
        const float* B = dp + (d * K + k0) * oc;
        for (int64_t a = 0; a < g.kd; ++a)
          for (int64_t bb = 0; bb < g.kh; ++bb)
            for (int64_t c = 0; c < g.kw; ++c) {
              const float* A = xp + (((d + a) * Hp + bb) * Wp + c + k0) * ic;
              float* Ct = C + ((a * g.kh + bb) * g.kw + c) * ic * oc;
              const dnnl_status_t st = dnnl_sgemm('T', 'N', ic, oc, kc, 1.f, A, ic, B, oc, 0.f, Ct, oc);
              if (st != dnnl_success) {
#pragma omp critical
                status = st;
              }
            }
        for (int64_t j = 0; j < nW; ++j) S[j] += C[j];
      }
    }
    if (status != dnnl_success) throw dnnl::error(status, "dnnl_sgemm in the filter gradient");
  }
#pragma omp parallel for schedule(static)
  for (int64_t j = 0; j < nW; ++j) {
    double s = 0.0;
    for (int t = 0; t < T; ++t) s += acc[static_cast<size_t>(t) * nW + j];
    dw[j] = static_cast<float>(s);
  }
  if (dbias) {
    for (int64_t o = 0; o < oc; ++o) {
      double s = 0.0;
      for (int t = 0; t < T; ++t) s += bacc[static_cast<size_t>(t) * oc + o];
      dbias[o] = static_cast<float>(s);
    }
  }
  return true;
}

void CheckLen(const Napi::CallbackInfo& info, size_t i, int64_t want, const char* what, const Geom& g) {
  if (static_cast<int64_t>(Len(info, i)) != want) {
    throw Napi::RangeError::New(info.Env(), std::string(what) + " has " + std::to_string(Len(info, i)) +
                                                " elements, expected " + std::to_string(want) + " for " + g.describe());
  }
}

// conv3dForward(x, filter, y, params)
Napi::Value Forward(const Napi::CallbackInfo& info) {
  Geom g = ParseGeom(info, 3);
  float* x = F32(info, 0, "conv3d x");
  float* w = F32(info, 1, "conv3d filter");
  float* y = F32(info, 2, "conv3d y");
  CheckLen(info, 0, g.n * g.id * g.ih * g.iw * g.ic, "Conv3D x", g);
  CheckLen(info, 1, g.kd * g.kh * g.kw * g.ic * g.oc, "Conv3D filter", g);
  CheckLen(info, 2, g.n * g.od * g.oh * g.ow * g.oc, "Conv3D y", g);
  const int layout = LayoutArg(info, 4);
  bool blocked = false;
  Guard(info, "Conv3D", g, [&] {
    if (layout == 1 && (blocked = ForwardBlocked(g, x, w, nullptr, y))) return;
    Entry& e = Get(g);
    if (!e.fwd) e.fwd = std::make_unique<convolution_forward>(e.fwdPd);
    memory xm(e.fwdPd.src_desc(), Eng(), x), ym(e.fwdPd.dst_desc(), Eng(), y);
    memory wu({g.wei(), dt::f32, tag::dhwio}, Eng(), w);
    memory wm = Prepare(wu, e.fwdWei, e.fwdPd.weights_desc());
    e.fwd->execute(Strm(), {{DNNL_ARG_SRC, xm}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, ym}});
  });
  return Napi::Number::New(info.Env(), blocked ? 1 : 0);
}

// conv3dBackwardData(dy, filter, dx, params)
Napi::Value BackwardData(const Napi::CallbackInfo& info) {
  Geom g = ParseGeom(info, 3);
  float* dy = F32(info, 0, "conv3d dy");
  float* w = F32(info, 1, "conv3d filter");
  float* dx = F32(info, 2, "conv3d dx");
  CheckLen(info, 0, g.n * g.od * g.oh * g.ow * g.oc, "Conv3DBackpropInputV2 dy", g);
  CheckLen(info, 1, g.kd * g.kh * g.kw * g.ic * g.oc, "Conv3DBackpropInputV2 filter", g);
  CheckLen(info, 2, g.n * g.id * g.ih * g.iw * g.ic, "Conv3DBackpropInputV2 dx", g);
  const int layout = LayoutArg(info, 4);
  bool blocked = false;
  Guard(info, "Conv3DBackpropInputV2", g, [&] {
    if (layout == 1 && (blocked = BackwardDataBlocked(g, dy, w, dx))) return;
    Entry& e = Get(g);
    if (!e.bwdData) {
      memory::desc src(g.src(), dt::f32, tag::ndhwc), dst(g.dst(), dt::f32, tag::ndhwc);
      memory::desc wei(g.wei(), dt::f32, tag::any);
      auto d = convolution_backward_data::desc(algorithm::convolution_direct, src, wei, dst, g.strides, g.dil,
                                               g.padL, g.padR);
      e.bwdDataPd = std::make_unique<convolution_backward_data::primitive_desc>(d, Eng(), e.fwdPd);
      e.bwdData = std::make_unique<convolution_backward_data>(*e.bwdDataPd);
    }
    memory dym(e.bwdDataPd->diff_dst_desc(), Eng(), dy), dxm(e.bwdDataPd->diff_src_desc(), Eng(), dx);
    memory wu({g.wei(), dt::f32, tag::dhwio}, Eng(), w);
    memory wm = Prepare(wu, e.bwdDataWei, e.bwdDataPd->weights_desc());
    e.bwdData->execute(Strm(), {{DNNL_ARG_DIFF_DST, dym}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DIFF_SRC, dxm}});
  });
  return Napi::Number::New(info.Env(), blocked ? 1 : 0);
}

// conv3dBackwardFilter(x, dy, dw, params)
//
// Activations are read as ndhwc like the other two. VOXSEG_CONV_BLOCKED_BWD_WEIGHTS=1 lets
// oneDNN pick blocked activation layouts instead (x and dy are then reordered into cached
// buffers): measured side by side on 32..64^3 x 32 channels the two were within this
// machine's noise, so the simpler, reorder-free path is the default.
Napi::Value BackwardFilter(const Napi::CallbackInfo& info) {
  Geom g = ParseGeom(info, 3);
  float* x = F32(info, 0, "conv3d x");
  float* dy = F32(info, 1, "conv3d dy");
  float* dw = F32(info, 2, "conv3d dw");
  CheckLen(info, 0, g.n * g.id * g.ih * g.iw * g.ic, "Conv3DBackpropFilterV2 x", g);
  CheckLen(info, 1, g.n * g.od * g.oh * g.ow * g.oc, "Conv3DBackpropFilterV2 dy", g);
  CheckLen(info, 2, g.kd * g.kh * g.kw * g.ic * g.oc, "Conv3DBackpropFilterV2 dw", g);
  const int layout = LayoutArg(info, 4);
  bool blocked = false;
  Guard(info, "Conv3DBackpropFilterV2", g, [&] {
    if (layout == 1 && (blocked = BackwardFilterGemm(g, x, dy, dw, nullptr) || BackwardFilterBlocked(g, x, dy, dw, nullptr))) return;
    Entry& e = Get(g);
    if (!e.bwdWei) {
      const bool blocked = getenv("VOXSEG_CONV_BLOCKED_BWD_WEIGHTS") != nullptr;
      memory::desc src(g.src(), dt::f32, blocked ? tag::any : tag::ndhwc);
      memory::desc dst(g.dst(), dt::f32, blocked ? tag::any : tag::ndhwc);
      memory::desc wei(g.wei(), dt::f32, tag::any);
      auto d = convolution_backward_weights::desc(algorithm::convolution_direct, src, wei, dst, g.strides, g.dil,
                                                  g.padL, g.padR);
      e.bwdWeiPd = std::make_unique<convolution_backward_weights::primitive_desc>(d, Eng(), e.fwdPd);
      e.bwdWei = std::make_unique<convolution_backward_weights>(*e.bwdWeiPd);
    }
    memory xu({g.src(), dt::f32, tag::ndhwc}, Eng(), x), dyu({g.dst(), dt::f32, tag::ndhwc}, Eng(), dy);
    memory xm = Prepare(xu, e.bwdWeiSrc, e.bwdWeiPd->src_desc());
    memory dym = Prepare(dyu, e.bwdWeiDst, e.bwdWeiPd->diff_dst_desc());
    memory wu({g.wei(), dt::f32, tag::dhwio}, Eng(), dw);
    const memory::desc& want = e.bwdWeiPd->diff_weights_desc();
    if (want == wu.get_desc()) {
      e.bwdWei->execute(Strm(), {{DNNL_ARG_SRC, xm}, {DNNL_ARG_DIFF_DST, dym}, {DNNL_ARG_DIFF_WEIGHTS, wu}});
    } else {
      if (!e.bwdWeiDiff) e.bwdWeiDiff = std::make_unique<memory>(want, Eng());
      e.bwdWei->execute(Strm(), {{DNNL_ARG_SRC, xm}, {DNNL_ARG_DIFF_DST, dym}, {DNNL_ARG_DIFF_WEIGHTS, *e.bwdWeiDiff}});
      reorder(*e.bwdWeiDiff, wu).execute(Strm(), *e.bwdWeiDiff, wu);
    }
  });
  return Napi::Number::New(info.Env(), blocked ? 1 : 0);
}

// conv3dForwardBias(x, filter, bias, y, params): y = conv3d(x, filter) + bias in one primitive.
Napi::Value ForwardBias(const Napi::CallbackInfo& info) {
  Geom g = ParseGeom(info, 4);
  float* x = F32(info, 0, "conv3d x");
  float* w = F32(info, 1, "conv3d filter");
  float* b = F32(info, 2, "conv3d bias");
  float* y = F32(info, 3, "conv3d y");
  CheckLen(info, 0, g.n * g.id * g.ih * g.iw * g.ic, "VoxsegConv3DBias x", g);
  CheckLen(info, 1, g.kd * g.kh * g.kw * g.ic * g.oc, "VoxsegConv3DBias filter", g);
  CheckLen(info, 2, g.oc, "VoxsegConv3DBias bias", g);
  CheckLen(info, 3, g.n * g.od * g.oh * g.ow * g.oc, "VoxsegConv3DBias y", g);
  const int layout = LayoutArg(info, 5);
  bool blocked = false;
  Guard(info, "VoxsegConv3DBias", g, [&] {
    if (layout == 1 && (blocked = ForwardBlocked(g, x, w, b, y))) return;
    Entry& e = Get(g);
    if (!e.fwdBias) {
      memory::desc src(g.src(), dt::f32, tag::ndhwc), dst(g.dst(), dt::f32, tag::ndhwc);
      memory::desc wei(g.wei(), dt::f32, tag::any), bias({g.oc}, dt::f32, tag::x);
      auto d = convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, src, wei, bias,
                                         dst, g.strides, g.dil, g.padL, g.padR);
      e.fwdBiasPd = std::make_unique<convolution_forward::primitive_desc>(d, Eng());
      e.fwdBias = std::make_unique<convolution_forward>(*e.fwdBiasPd);
    }
    memory xm(e.fwdBiasPd->src_desc(), Eng(), x), ym(e.fwdBiasPd->dst_desc(), Eng(), y);
    memory bm(e.fwdBiasPd->bias_desc(), Eng(), b);
    memory wu({g.wei(), dt::f32, tag::dhwio}, Eng(), w);
    memory wm = Prepare(wu, e.fwdBiasWei, e.fwdBiasPd->weights_desc());
    e.fwdBias->execute(Strm(), {{DNNL_ARG_SRC, xm}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_BIAS, bm}, {DNNL_ARG_DST, ym}});
  });
  return Napi::Number::New(info.Env(), blocked ? 1 : 0);
}

// conv3dBackwardFilterBias(x, dy, dw, dbias, params): filter and bias gradients in one primitive.
Napi::Value BackwardFilterBias(const Napi::CallbackInfo& info) {
  Geom g = ParseGeom(info, 4);
  float* x = F32(info, 0, "conv3d x");
  float* dy = F32(info, 1, "conv3d dy");
  float* dw = F32(info, 2, "conv3d dw");
  float* db = F32(info, 3, "conv3d dbias");
  CheckLen(info, 0, g.n * g.id * g.ih * g.iw * g.ic, "VoxsegConv3DBackpropFilterBias x", g);
  CheckLen(info, 1, g.n * g.od * g.oh * g.ow * g.oc, "VoxsegConv3DBackpropFilterBias dy", g);
  CheckLen(info, 2, g.kd * g.kh * g.kw * g.ic * g.oc, "VoxsegConv3DBackpropFilterBias dw", g);
  CheckLen(info, 3, g.oc, "VoxsegConv3DBackpropFilterBias dbias", g);
  const int layout = LayoutArg(info, 5);
  bool blocked = false;
  Guard(info, "VoxsegConv3DBackpropFilterBias", g, [&] {
    if (layout == 1 && (blocked = BackwardFilterGemm(g, x, dy, dw, db) || BackwardFilterBlocked(g, x, dy, dw, db))) return;
    Entry& e = Get(g);
    if (!e.bwdWeiBias) {
      memory::desc src(g.src(), dt::f32, tag::ndhwc), dst(g.dst(), dt::f32, tag::ndhwc);
      memory::desc wei(g.wei(), dt::f32, tag::any), bias({g.oc}, dt::f32, tag::x);
      if (!e.fwdBiasPd) {
        auto fd = convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, src, wei, bias,
                                            dst, g.strides, g.dil, g.padL, g.padR);
        e.fwdBiasPd = std::make_unique<convolution_forward::primitive_desc>(fd, Eng());
      }
      auto d = convolution_backward_weights::desc(algorithm::convolution_direct, src, wei, bias, dst, g.strides,
                                                  g.dil, g.padL, g.padR);
      e.bwdWeiBiasPd = std::make_unique<convolution_backward_weights::primitive_desc>(d, Eng(), *e.fwdBiasPd);
      e.bwdWeiBias = std::make_unique<convolution_backward_weights>(*e.bwdWeiBiasPd);
    }
    auto& pd = *e.bwdWeiBiasPd;
    memory xm(pd.src_desc(), Eng(), x), dym(pd.diff_dst_desc(), Eng(), dy), dbm(pd.diff_bias_desc(), Eng(), db);
    memory wu({g.wei(), dt::f32, tag::dhwio}, Eng(), dw);
    if (pd.diff_weights_desc() == wu.get_desc()) {
      e.bwdWeiBias->execute(Strm(), {{DNNL_ARG_SRC, xm}, {DNNL_ARG_DIFF_DST, dym}, {DNNL_ARG_DIFF_WEIGHTS, wu}, {DNNL_ARG_DIFF_BIAS, dbm}});
    } else {
      if (!e.bwdWeiBiasDiff) e.bwdWeiBiasDiff = std::make_unique<memory>(pd.diff_weights_desc(), Eng());
      e.bwdWeiBias->execute(Strm(), {{DNNL_ARG_SRC, xm}, {DNNL_ARG_DIFF_DST, dym}, {DNNL_ARG_DIFF_WEIGHTS, *e.bwdWeiBiasDiff}, {DNNL_ARG_DIFF_BIAS, dbm}});
      reorder(*e.bwdWeiBiasDiff, wu).execute(Strm(), *e.bwdWeiBiasDiff, wu);
    }
  });
  return Napi::Number::New(info.Env(), blocked ? 1 : 0);
}

// Implementation names chosen by oneDNN, for the benchmark report and debugging.
Napi::Value ImplInfo(const Napi::CallbackInfo& info) {
  Geom g = ParseGeom(info, 0);
  auto o = Napi::Object::New(info.Env());
  Guard(info, "Conv3D", g, [&] {
    Entry& e = Get(g);
    o.Set("forward", e.fwdPd.impl_info_str());
    if (e.bwdDataPd) o.Set("backwardData", e.bwdDataPd->impl_info_str());
    if (e.bwdWeiPd) o.Set("backwardFilter", e.bwdWeiPd->impl_info_str());
    if (e.fwdBiasPd) o.Set("forwardBias", e.fwdBiasPd->impl_info_str());
    if (e.bwdWeiBiasPd) o.Set("backwardFilterBias", e.bwdWeiBiasPd->impl_info_str());
    // Blocked-layout primitives created for this geometry: implementation, or "none" where
    // oneDNN picked no plain blocked layout (those calls run channels-last).
    static const char* names[] = {"blockedForward", "blockedForwardBias", "blockedBackwardData", "blockedBackwardFilter",
                                  "blockedBackwardFilterBias"};
    const std::string tail = g.key.substr(g.key.find(','));
    for (int k = 0; k < 5; ++k) {
      auto it = BlockedCache().find(std::to_string(k) + tail);
      if (it != BlockedCache().end()) o.Set(names[k], it->second->ok ? it->second->impl : std::string("none"));
    }
  });
  return o;
}

Napi::Value ClearCache(const Napi::CallbackInfo& info) {
  size_t n = Cache().size() + BlockedCache().size();
  Cache().clear();
  BlockedCache().clear();
  SrcScratch().release();
  DstScratch().release();
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

}  // namespace

void InitConv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv3dForward", Napi::Function::New(env, Forward));
  exports.Set("conv3dBackwardData", Napi::Function::New(env, BackwardData));
  exports.Set("conv3dBackwardFilter", Napi::Function::New(env, BackwardFilter));
  exports.Set("conv3dForwardBias", Napi::Function::New(env, ForwardBias));
  exports.Set("conv3dBackwardFilterBias", Napi::Function::New(env, BackwardFilterBias));
  exports.Set("conv3dImplInfo", Napi::Function::New(env, ImplInfo));
  exports.Set("clearConvCache", Napi::Function::New(env, ClearCache));
}

}  // namespace voxseg
