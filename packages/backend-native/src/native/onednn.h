// The addon's one oneDNN CPU engine and stream, shared by every kernel (conv3d, matmul):
// inline functions, so each static exists once across translation units.
#pragma once
#include <dnnl.hpp>

namespace voxseg {

inline dnnl::engine& Eng() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

inline dnnl::stream& Strm() {
  static dnnl::stream s(Eng());
  return s;
}

}  // namespace voxseg
