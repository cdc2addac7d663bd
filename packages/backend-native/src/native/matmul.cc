// Batched matrix multiply over oneDNN's matmul primitive (BatchMatMul, _FusedMatMul).
// Transposes are expressed as strides, so the operands are read in place; a batch of 1
// on either side broadcasts. Primitives are cached by shape and transpose flags.
#include <dnnl.hpp>
#include <memory>
#include <unordered_map>
#include "common.h"
#include "onednn.h"

namespace voxseg {
using namespace dnnl;
using dt = memory::data_type;

namespace {

struct MmEntry {
  matmul::primitive_desc pd;
  matmul prim;
};

// matmul(a, b, c, [batchA, batchB, M, N, K, transA, transB])
Napi::Value BatchMatMul(const Napi::CallbackInfo& info) {
  auto p = Ints(info, 3, "matmul params");
  if (p.size() != 7) throw Napi::TypeError::New(info.Env(), "matmul params: expected 7 integers");
  const int64_t ba = p[0], bb = p[1], M = p[2], N = p[3], K = p[4];
  const bool ta = p[5] != 0, tb = p[6] != 0;
  const int64_t bc = std::max(ba, bb);
  float* a = F32(info, 0, "BatchMatMul a");
  float* b = F32(info, 1, "BatchMatMul b");
  float* c = F32(info, 2, "BatchMatMul c");
  auto describe = [&] {
    return std::string("a [") + std::to_string(ba) + "," + std::to_string(ta ? K : M) + "," +
           std::to_string(ta ? M : K) + "] b [" + std::to_string(bb) + "," + std::to_string(tb ? N : K) + "," +
           std::to_string(tb ? K : N) + "] transposeA " + (ta ? "true" : "false") + " transposeB " +
           (tb ? "true" : "false");
  };
  if (static_cast<int64_t>(Len(info, 0)) != ba * M * K || static_cast<int64_t>(Len(info, 1)) != bb * K * N ||
      static_cast<int64_t>(Len(info, 2)) != bc * M * N || (ba != bb && ba != 1 && bb != 1)) {
    throw Napi::RangeError::New(info.Env(), "BatchMatMul: buffer sizes do not match " + describe());
  }
  static std::unordered_map<std::string, std::unique_ptr<MmEntry>> cache;
  try {
    std::string key = Dims(p);
    auto it = cache.find(key);
    if (it == cache.end()) {
      memory::desc amd({ba, M, K}, dt::f32, ta ? memory::dims{M * K, 1, M} : memory::dims{M * K, K, 1});
      memory::desc bmd({bb, K, N}, dt::f32, tb ? memory::dims{K * N, 1, K} : memory::dims{K * N, N, 1});
      memory::desc cmd({bc, M, N}, dt::f32, memory::dims{M * N, N, 1});
      auto pd = matmul::primitive_desc(matmul::desc(amd, bmd, cmd), Eng());
      auto e = std::unique_ptr<MmEntry>(new MmEntry{pd, matmul(pd)});
      it = cache.emplace(key, std::move(e)).first;
    }
    MmEntry& e = *it->second;
    memory am(e.pd.src_desc(), Eng(), a), bm(e.pd.weights_desc(), Eng(), b), cm(e.pd.dst_desc(), Eng(), c);
    e.prim.execute(Strm(), {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
    Strm().wait();
  } catch (const dnnl::error& err) {
    throw Napi::Error::New(info.Env(), std::string("BatchMatMul failed in oneDNN (") + err.what() + ") for " + describe());
  }
  return info.Env().Undefined();
}

}  // namespace

void InitMatmul(Napi::Env env, Napi::Object exports) {
  exports.Set("batchMatMul", Napi::Function::New(env, BatchMatMul));
}

}  // namespace voxseg
