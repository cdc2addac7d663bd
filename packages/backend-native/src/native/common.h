// Shared helpers for the voxseg native addon: typed-array access without copies and
// errors that name the op and the shapes (errors are for people).
#pragma once
#include <napi.h>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace voxseg {

/** Pointer into a JS Float32Array's own buffer (no copy); throws a TypeError naming `what`. */
inline float* F32(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + ": expected a Float32Array");
  }
  return info[i].As<Napi::Float32Array>().Data();
}

/** Length (elements) of argument i, a typed array. */
inline size_t Len(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::TypedArray>().ElementLength();
}

/** Pointer into a JS Uint8Array (tfjs stores bool tensors that way). */
inline uint8_t* U8(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + ": expected a Uint8Array");
  }
  return info[i].As<Napi::Uint8Array>().Data();
}

/** Integer vector from a JS array or Int32Array. */
inline std::vector<int64_t> Ints(const Napi::CallbackInfo& info, size_t i, const char* what) {
  std::vector<int64_t> out;
  if (info[i].IsTypedArray() && info[i].As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
    auto a = info[i].As<Napi::Int32Array>();
    for (size_t k = 0; k < a.ElementLength(); ++k) out.push_back(a[k]);
    return out;
  }
  if (!info[i].IsArray()) throw Napi::TypeError::New(info.Env(), std::string(what) + ": expected an array of integers");
  auto a = info[i].As<Napi::Array>();
  for (uint32_t k = 0; k < a.Length(); ++k) out.push_back(a.Get(k).As<Napi::Number>().Int64Value());
  return out;
}

inline std::string Dims(const std::vector<int64_t>& d) {
  std::ostringstream s;
  s << '[';
  for (size_t k = 0; k < d.size(); ++k) s << (k ? "," : "") << d[k];
  s << ']';
  return s.str();
}

void InitConv(Napi::Env env, Napi::Object exports);
void InitMatmul(Napi::Env env, Napi::Object exports);
void InitElementwise(Napi::Env env, Napi::Object exports);
void InitNorm(Napi::Env env, Napi::Object exports);
void InitConvInfer(Napi::Env env, Napi::Object exports);

}  // namespace voxseg
