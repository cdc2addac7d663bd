// Entry point of the voxseg native addon: oneDNN convolutions and matmul, plus
// OpenMP element-wise, reduction and normalisation kernels, all working in place on the
// Float32Arrays that back tfjs tensors.
#include <dnnl.hpp>
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
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  InitConv(env, exports);
  InitMatmul(env, exports);
  InitElementwise(env, exports);
  InitNorm(env, exports);
  return exports;
}

}  // namespace voxseg

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return voxseg::Init(env, exports); }

NODE_API_MODULE(voxseg_native, InitAddon)
