// Conv3D for inference: convolution + bias + optional LeakyReLU in one oneDNN primitive.
//
// At inference a U-Net block conv -> BatchNorm -> LeakyReLU collapses into one pass: the
// BatchNorm (running statistics) is folded into the convolution's weights and bias by the
// caller, and the LeakyReLU runs as an eltwise post-op of the same primitive, applied to
// each output block while it is still in cache. Training's primitives (conv3d.cc) cannot do
// this: their backward passes need the pre-activation output. Activations stay channels-last
// (ndhwc) in the tensors' own arrays as in conv3d.cc; the weights (tfjs `[kd,kh,kw,in,out]`)
// are reordered each call into a cached buffer (weights are small next to activations, and
// the arrays of different models may share an address once recycled, so the reordered copy
// is never trusted across calls).
#include <dnnl.hpp>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <unordered_map>
#include "blocked.h"
#include "common.h"
#include "onednn.h"

namespace voxseg {
using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

struct InferGeom {
  int64_t n, id, ih, iw, ic, od, oh, ow, oc, kd, kh, kw;
  memory::dims strides, padL, padR, dil;
  memory::dims src() const { return {n, ic, id, ih, iw}; }
  memory::dims dst() const { return {n, oc, od, oh, ow}; }
  memory::dims wei() const { return {oc, ic, kd, kh, kw}; }
};

struct InferEntry {
  convolution_forward::primitive_desc pd;
  convolution_forward prim;
  std::unique_ptr<memory> wei;  // reorder target for the weights
};

std::unordered_map<std::string, std::unique_ptr<InferEntry>>& InferCache() {
  static std::unordered_map<std::string, std::unique_ptr<InferEntry>> c;
  return c;
}

// conv3dInference(x, filter, bias | null, y, params, negativeSlope | NaN, layout)
//   params: the 24 integers of conv3d.cc (see conv3d.ts `convParams`)
//   negativeSlope: NaN for no activation, else y = leakyRelu(conv + bias, slope)
//   layout: 0 channels-last in and out; 1 oneDNN's blocked layout (x reordered into a scratch
//   buffer, the result reordered back into y; faster for wide layers on AVX2, see
//   conv3d-inference.ts); 2/3 (blocked input only / output only) exist for measurement: oneDNN
//   2.6 has no fast kernel for them.
//   x2, c1 (optional): the input is the channel concatenation [x, x2] (x holds the first c1
//   channels, x2 the other ic - c1), as a U-Net decoder's concat(upsampled, skip) feeding its
//   first conv. Each part is reordered straight into its channel range of the blocked input
//   buffer, so the concatenated tensor is never written in channels-last: the convolution
//   sees the same blocked bytes as for a concatenated x, so the result is bit-identical. Needs
//   a blocked input (layout 1 or 2) and c1 on a channel-block boundary (the caller checks).
//   precision (optional, default 0): 0 float32 throughout; 1 bfloat16 source and weights with
//   float32 accumulation, bias and output (oneDNN's bf16 convolution: x, and x2, are converted
//   by the reorders into the blocked input buffer, the weights into the cached reorder target).
//   Only where Bf16Probe() says so: on a CPU without AVX512-BF16/AMX oneDNN 2.6 has no bf16
//   convolution and creation fails.
Napi::Value Inference(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto p = Ints(info, 4, "conv3dInference params");
  if (p.size() != 24) throw Napi::TypeError::New(env, "conv3dInference params: expected 24 integers");
  InferGeom g{p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11],
              {p[12], p[13], p[14]}, {p[15], p[16], p[17]}, {p[18], p[19], p[20]},
              {p[21] - 1, p[22] - 1, p[23] - 1}};
  float* x = F32(info, 0, "conv3dInference x");
  float* w = F32(info, 1, "conv3dInference filter");
  const bool hasBias = !info[2].IsNull() && !info[2].IsUndefined();
  float* b = hasBias ? F32(info, 2, "conv3dInference bias") : nullptr;
  float* y = F32(info, 3, "conv3dInference y");
  const bool hasX2 = info.Length() > 7 && !info[7].IsNull() && !info[7].IsUndefined();
  if (hasX2 && !(info.Length() > 8 && info[8].IsNumber())) throw Napi::TypeError::New(env, "conv3dInference: x2 needs c1, the channels of x");
  const int64_t c1 = hasX2 ? info[8].As<Napi::Number>().Int64Value() : g.ic;
  float* x2 = hasX2 ? F32(info, 7, "conv3dInference x2") : nullptr;
  const double slopeArg = info.Length() > 5 && info[5].IsNumber() ? info[5].As<Napi::Number>().DoubleValue() : NAN;
  const bool act = !std::isnan(slopeArg);
  const int layout = info.Length() > 6 && info[6].IsNumber() ? info[6].As<Napi::Number>().Int32Value() : 0;
  const bool srcBlocked = layout == 1 || layout == 2, dstBlocked = layout == 1 || layout == 3;
  const int precision = info.Length() > 9 && info[9].IsNumber() ? info[9].As<Napi::Number>().Int32Value() : 0;
  if (precision != 0 && precision != 1) throw Napi::RangeError::New(env, "conv3dInference precision: expected 0 (fp32) or 1 (bf16), got " + std::to_string(precision));
  const dt inType = precision == 1 ? dt::bf16 : dt::f32;
  const float slope = static_cast<float>(slopeArg);
  auto check = [&](size_t i, int64_t want, const char* what) {
    if (static_cast<int64_t>(Len(info, i)) != want) {
      throw Napi::RangeError::New(env, std::string("VoxsegConv3DInference: ") + what + " has " + std::to_string(Len(info, i)) +
                                           " elements, expected " + std::to_string(want) + " for params " + Dims(p));
    }
  };
  if (hasX2 && (c1 <= 0 || c1 >= g.ic || !srcBlocked)) {
    throw Napi::RangeError::New(env, "VoxsegConv3DInference: x2 needs 0 < c1 < " + std::to_string(g.ic) + " and a blocked input layout, got c1 " +
                                         std::to_string(c1) + " layout " + std::to_string(layout));
  }
  check(0, g.n * g.id * g.ih * g.iw * c1, "x");
  if (hasX2) check(7, g.n * g.id * g.ih * g.iw * (g.ic - c1), "x2");
  check(1, g.kd * g.kh * g.kw * g.ic * g.oc, "filter");
  if (hasBias) check(2, g.oc, "bias");
  check(3, g.n * g.od * g.oh * g.ow * g.oc, "y");

  std::string key = Dims(p) + (hasBias ? "b" : "-") + std::to_string(layout) + (precision == 1 ? "h" : "");
  if (act) {
    uint32_t bits;
    std::memcpy(&bits, &slope, sizeof bits);
    key += "s" + std::to_string(bits);
  }
  try {
    auto& cache = InferCache();
    auto it = cache.find(key);
    if (it == cache.end()) {
      memory::desc src(g.src(), inType, srcBlocked ? tag::any : tag::ndhwc), dst(g.dst(), dt::f32, dstBlocked ? tag::any : tag::ndhwc);
      memory::desc wei(g.wei(), inType, tag::any);
      auto d = hasBias ? convolution_forward::desc(prop_kind::forward_inference, algorithm::convolution_direct, src, wei,
                                                   memory::desc({g.oc}, dt::f32, tag::x), dst, g.strides, g.dil, g.padL, g.padR)
                       : convolution_forward::desc(prop_kind::forward_inference, algorithm::convolution_direct, src, wei, dst,
                                                   g.strides, g.dil, g.padL, g.padR);
      primitive_attr attr;
      if (act) {
        post_ops po;
        po.append_eltwise(1.f, algorithm::eltwise_relu, slope, 0.f);  // relu with alpha = leaky slope
        attr.set_post_ops(po);
      }
      convolution_forward::primitive_desc pd(d, attr, Eng());
      auto e = std::unique_ptr<InferEntry>(new InferEntry{pd, convolution_forward(pd), nullptr});
      it = cache.emplace(key, std::move(e)).first;
    }
    InferEntry& e = *it->second;
    memory::dims src1 = {g.n, c1, g.id, g.ih, g.iw};
    memory xu({src1, dt::f32, tag::ndhwc}, Eng(), x), yu({g.dst(), dt::f32, tag::ndhwc}, Eng(), y);
    memory xm = xu, ym = yu;
    const int64_t spatial = g.id * g.ih * g.iw;
    const int64_t block = PlainBlock(e.pd.src_desc(), g.src());
    if (hasX2) {
      // Both parts written into their channel ranges of one blocked buffer (no concat).
      float* buf = static_cast<float*>(SrcScratch().get(e.pd.src_desc().get_size()));
      xm = memory(e.pd.src_desc(), Eng(), buf);
      if (block && c1 % block == 0) {
        ToBlocked(x, g.n, spatial, c1, buf, 0, g.ic, block);
        ToBlocked(x2, g.n, spatial, g.ic - c1, buf, c1, g.ic, block);
      } else {
        memory::dims src2 = {g.n, g.ic - c1, g.id, g.ih, g.iw};
        memory part1(e.pd.src_desc().submemory_desc(src1, {0, 0, 0, 0, 0}), Eng(), buf);
        memory part2(e.pd.src_desc().submemory_desc(src2, {0, c1, 0, 0, 0}), Eng(), buf);
        memory x2u({src2, dt::f32, tag::ndhwc}, Eng(), x2);
        reorder(xu, part1).execute(Strm(), xu, part1);
        reorder(x2u, part2).execute(Strm(), x2u, part2);
      }
    } else if (e.pd.src_desc() != xu.get_desc()) {
      float* buf = static_cast<float*>(SrcScratch().get(e.pd.src_desc().get_size()));
      xm = memory(e.pd.src_desc(), Eng(), buf);
      if (block) ToBlocked(x, g.n, spatial, g.ic, buf, 0, g.ic, block);
      else reorder(xu, xm).execute(Strm(), xu, xm);
    }
    if (e.pd.dst_desc() != yu.get_desc()) ym = memory(e.pd.dst_desc(), Eng(), DstScratch().get(e.pd.dst_desc().get_size()));
    memory wu({g.wei(), dt::f32, tag::dhwio}, Eng(), w);
    memory wm = wu;
    if (e.pd.weights_desc() != wu.get_desc()) {
      if (!e.wei) e.wei = std::make_unique<memory>(e.pd.weights_desc(), Eng());
      reorder(wu, *e.wei).execute(Strm(), wu, *e.wei);
      wm = *e.wei;
    }
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, xm}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, ym}};
    if (hasBias) args.insert({DNNL_ARG_BIAS, memory(e.pd.bias_desc(), Eng(), b)});
    e.prim.execute(Strm(), args);
    if (ym.get_data_handle() != yu.get_data_handle()) reorder(ym, yu).execute(Strm(), ym, yu);
    Strm().wait();
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(env, "VoxsegConv3DInference: out of memory for the blocked-layout buffers, params " + Dims(p));
  } catch (const dnnl::error& err) {
    throw Napi::Error::New(env, std::string("VoxsegConv3DInference failed in oneDNN (") + err.what() + ") for params " + Dims(p));
  }
  return env.Undefined();
}

Napi::Value InferImpl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto o = Napi::Object::New(env);
  for (auto& [k, e] : InferCache()) o.Set(k, e->pd.impl_info_str());
  return o;
}

Napi::Value ClearInferCache(const Napi::CallbackInfo& info) {
  size_t n = InferCache().size();
  InferCache().clear();
  SrcScratch().release();
  DstScratch().release();
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

const char* IsaName(cpu_isa isa) {
  switch (isa) {
    case cpu_isa::sse41: return "sse41";
    case cpu_isa::avx: return "avx";
    case cpu_isa::avx2: return "avx2";
    case cpu_isa::avx2_vnni: return "avx2_vnni";
    case cpu_isa::avx512_mic: return "avx512_mic";
    case cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case cpu_isa::avx512_core: return "avx512_core";
    case cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "unknown";
  }
}

// bf16Probe() -> { isa, bf16, impl, reason }: whether this CPU runs the bf16 inference
// convolution. oneDNN's effective ISA says what the CPU has; the answer itself comes from
// creating the primitive the kernel would create (a U-Net layer's shape, blocked layout, with
// the LeakyReLU post-op): 2.6 has jit bf16 convolutions only from avx512_core (emulated there,
// native with AVX512-BF16, AMX), and a reference implementation would be far slower than fp32,
// so "ref" counts as no support.
Napi::Value Bf16Probe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto o = Napi::Object::New(env);
  const char* isa = IsaName(get_effective_cpu_isa());
  o.Set("isa", isa);
  std::string impl, reason;
  bool ok = false;
  try {
    const memory::dims s{1, 32, 8, 8, 8}, w{32, 32, 3, 3, 3};
    memory::desc src(s, dt::bf16, tag::any), dst(s, dt::f32, tag::any), wei(w, dt::bf16, tag::any), bias({32}, dt::f32, tag::x);
    convolution_forward::desc d(prop_kind::forward_inference, algorithm::convolution_direct, src, wei, bias, dst, {1, 1, 1},
                                {0, 0, 0}, {1, 1, 1}, {1, 1, 1});
    primitive_attr attr;
    post_ops po;
    po.append_eltwise(1.f, algorithm::eltwise_relu, 0.01f, 0.f);
    attr.set_post_ops(po);
    convolution_forward::primitive_desc pd(d, attr, Eng());
    impl = pd.impl_info_str();
    ok = impl.rfind("ref", 0) != 0;
    if (!ok) reason = std::string("oneDNN has only its reference bf16 convolution here (") + impl + ")";
  } catch (const dnnl::error& err) {
    reason = std::string("oneDNN cannot create a bf16 convolution (") + err.what() + ")";
  }
  o.Set("bf16", ok);
  o.Set("impl", impl);
  o.Set("reason", reason);
  return o;
}

}  // namespace

void InitConvInfer(Napi::Env env, Napi::Object exports) {
  exports.Set("conv3dInference", Napi::Function::New(env, Inference));
  exports.Set("conv3dInferenceImpls", Napi::Function::New(env, InferImpl));
  exports.Set("clearConvInferenceCache", Napi::Function::New(env, ClearInferCache));
  exports.Set("bf16Probe", Napi::Function::New(env, Bf16Probe));
}

}  // namespace voxseg
