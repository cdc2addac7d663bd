// oneDNN's blocked activation layout (nCdhw8c on AVX2, nCdhw16c on AVX-512) for the
// convolutions that run on it: the scratch buffers that hold blocked copies of activations,
// and the addon's own copies between channels-last (ndhwc) and that layout.
//
// Shared by the inference convolution (conv3d-infer.cc) and the training convolutions
// (conv3d.cc): JS calls are synchronous, so one pair of buffers serves both, grown to the
// largest layer that needed them, and the process holds at most that pair.
#pragma once
#include <dnnl.hpp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

namespace voxseg {

/** A 4 KB-aligned buffer that only grows (until released). */
struct Scratch {
  void* p = nullptr;
  size_t bytes = 0;
  void* get(size_t n) {
    if (n > bytes) {
      std::free(p);
      p = nullptr;
      bytes = (n + 4095) / 4096 * 4096;
      p = std::aligned_alloc(4096, bytes);
      if (!p) {
        bytes = 0;
        throw std::bad_alloc();
      }
    }
    return p;
  }
  void release() {
    std::free(p);
    p = nullptr;
    bytes = 0;
  }
};

/** Blocked copy of a convolution's input side (x, or dx for backward-data). */
inline Scratch& SrcScratch() {
  static Scratch s;
  return s;
}

/** Blocked copy of a convolution's output side (y, or dy for the backward passes). */
inline Scratch& DstScratch() {
  static Scratch s;
  return s;
}

/**
 * Channel block of `d` when it is oneDNN's plain blocked activation layout nCdhw8c/nCdhw16c
 * for `dims` with no padded channels; 0 otherwise.
 */
inline int64_t PlainBlock(const dnnl::memory::desc& d, const dnnl::memory::dims& dims) {
  using tag = dnnl::memory::format_tag;
  using dt = dnnl::memory::data_type;
  if (d == dnnl::memory::desc(dims, dt::f32, tag::nCdhw8c) && dims[1] % 8 == 0) return 8;
  if (d == dnnl::memory::desc(dims, dt::f32, tag::nCdhw16c) && dims[1] % 16 == 0) return 16;
  return 0;
}

/**
 * Channels-last `src` ([n, spatial, c]) into channels [c0, c0 + c) of the nC<spatial><B>c
 * buffer `dst` with `ctot` channels (c, c0, ctot multiples of B). Same bytes as oneDNN's
 * reorder to (a submemory of) that layout; written here because oneDNN 2.6's generic reorder
 * for it (jit:uni) ran at a third of the speed of the reorder back (measured with
 * ONEDNN_VERBOSE at 128^3 x 32 channels: 90-190 ms against 30-40 ms): it walks the source
 * once per channel block. Here each voxel's c channels are read once, in order, and copied
 * to c / B output streams.
 */
inline void ToBlocked(const float* src, int64_t n, int64_t spatial, int64_t c, float* dst, int64_t c0, int64_t ctot, int64_t B) {
  const int64_t nb = c / B, total = n * spatial;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < total; ++i) {
    const int64_t ni = i / spatial, si = i % spatial;
    const float* in = src + i * c;
    float* out = dst + ((ni * (ctot / B) + c0 / B) * spatial + si) * B;
    for (int64_t cb = 0; cb < nb; ++cb) std::memcpy(out + cb * spatial * B, in + cb * B, B * sizeof(float));
  }
}

/**
 * The inverse of ToBlocked for a whole buffer: the nC<spatial><B>c buffer `src` with c
 * channels (a multiple of B) into channels-last `dst` ([n, spatial, c]). Each voxel's c
 * channels are gathered from the c / B streams and written once, in order.
 */
inline void FromBlocked(const float* src, int64_t n, int64_t spatial, int64_t c, float* dst, int64_t B) {
  const int64_t nb = c / B, total = n * spatial;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < total; ++i) {
    const int64_t ni = i / spatial, si = i % spatial;
    const float* in = src + (ni * nb * spatial + si) * B;
    float* out = dst + i * c;
    for (int64_t cb = 0; cb < nb; ++cb) std::memcpy(out + cb * B, in + cb * spatial * B, B * sizeof(float));
  }
}

}  // namespace voxseg
