// Conv3D forward, backward-data and backward-weights over oneDNN.
//
// Activations stay channels-last (ndhwc) in the tensors' own Float32Arrays: oneDNN 2.6
// has direct kernels for that layout, so no activation reorders are needed. Weights come
// in tfjs's layout [kd, kh, kw, in, out] (oneDNN's `dhwio`) and are reordered into the
// blocked layout the chosen primitive prefers (weights change every training step, so
// the reorder runs each call; its target buffer is cached). Primitives are cached by a
// key of every shape, stride, padding and dilation: the U-Net reuses a handful of them.
#include <dnnl.hpp>
#include <cstdlib>
#include <memory>
#include <unordered_map>
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
  }
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
  Guard(info, "Conv3D", g, [&] {
    Entry& e = Get(g);
    if (!e.fwd) e.fwd = std::make_unique<convolution_forward>(e.fwdPd);
    memory xm(e.fwdPd.src_desc(), Eng(), x), ym(e.fwdPd.dst_desc(), Eng(), y);
    memory wu({g.wei(), dt::f32, tag::dhwio}, Eng(), w);
    memory wm = Prepare(wu, e.fwdWei, e.fwdPd.weights_desc());
    e.fwd->execute(Strm(), {{DNNL_ARG_SRC, xm}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, ym}});
  });
  return info.Env().Undefined();
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
  Guard(info, "Conv3DBackpropInputV2", g, [&] {
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
  return info.Env().Undefined();
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
  Guard(info, "Conv3DBackpropFilterV2", g, [&] {
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
  return info.Env().Undefined();
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
  Guard(info, "VoxsegConv3DBias", g, [&] {
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
  return info.Env().Undefined();
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
  Guard(info, "VoxsegConv3DBackpropFilterBias", g, [&] {
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
  return info.Env().Undefined();
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
  });
  return o;
}

Napi::Value ClearCache(const Napi::CallbackInfo& info) {
  size_t n = Cache().size();
  Cache().clear();
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
