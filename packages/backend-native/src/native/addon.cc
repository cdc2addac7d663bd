// Entry point of the voxseg native addon: oneDNN convolutions and matmul, plus
// OpenMP element-wise, reduction and normalisation kernels, all working in place on the
// Float32Arrays that back tfjs tensors.
#include <dnnl.hpp>
#include <malloc.h>
#include <cstdlib>
#include <omp.h>
#include "common.h"

namespace voxseg {

static Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto o = Napi::Object::New(env);
  const dnnl_version_t* v = dnnl_version();
  std::ostringstream s;
  s << v->major << '.' << v->minor << '.' << v->patch;
  o.Set("onednn", s.str());
  o.Set("threads", omp_get_max_threads());
  return o;
}

static Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  int n = info[0].As<Napi::Number>().Int32Value();
  if (n > 0) omp_set_num_threads(n);
  return Napi::Number::New(info.Env(), omp_get_max_threads());
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Tensors are fresh ArrayBuffers (calloc). Above glibc's mmap threshold each one is a new
  // mapping whose pages fault in one by one and are unmapped on free; on this VM that made a
  // 4 MB element-wise op 4x slower than its arithmetic. Serving blocks up to the largest
  // threshold glibc allows (32 MB) from the heap, and not trimming it, reuses pages instead.
  // RSS then stays at its high-water mark rather than shrinking between steps.
  if (!getenv("VOXSEG_NATIVE_KEEP_MALLOC")) {
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024);
  }
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  InitConv(env, exports);
  InitMatmul(env, exports);
  InitElementwise(env, exports);
  InitNorm(env, exports);
  InitConvInfer(env, exports);
  return exports;
}

}  // namespace voxseg

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return voxseg::Init(env, exports); }

NODE_API_MODULE(voxseg_native, InitAddon)
