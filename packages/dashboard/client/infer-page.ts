// In-browser inference: four NIfTI files in, a BraTS label map out, computed in this page with
// a trained run's model on webgpu (when the browser has a GPU adapter) or webgl. The pipeline
// is the Node one, imported from the same packages (their `browser` entries): preprocessCase,
// slidingWindowInference, regionsToLabels, postprocessEnhancing, pasteIntoGrid, encodeNifti.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { pasteIntoGrid, slidingWindowInference } from '@voxseg/core';
import { decodeNifti, encodeNifti, type NiftiVolume, postprocessEnhancing, preprocessCase, regionsToLabels } from '@voxseg/plugin-data-brats';
import { registerUnetLayers } from '@voxseg/plugin-unet';
import { registerAxialAttentionLayers } from '@voxseg/plugin-axial-attention';
import type { RunInfo } from '../src/runs/run-info.js';
import { api, esc, setWhere, token } from './common.js';
import { LABEL_COLOURMAP } from './label-colours.js';

/** BraTS 2021 modality order (the network's input channels), as @voxseg/plugin-data-brats's layout. */
const MODALITIES = ['t1', 't1ce', 't2', 'flair'] as const;

registerUnetLayers();
registerAxialAttentionLayers();
setWhere('in-browser inference');
const app = document.getElementById('app')!;
const files = new Map<string, File>();

async function main(): Promise<void> {
  const { runs } = await api<{ runs: RunInfo[] }>('/api/runs');
  const withModel = runs.filter((r) => r.hasModel);
  app.innerHTML = `
<p>Segment a case in this browser: nothing is uploaded, the model runs here (${esc('webgpu where the browser has a GPU adapter, else webgl')}).</p>
<div class="controls"><label>model <select id="run">${withModel.map((r) => `<option value="${esc(r.id)}">${esc(r.id)}${r.variant ? ` (${esc(r.variant)})` : ''}</option>`).join('')}</select></label>
${withModel.length ? '' : '<span class="status error">no run with a final model (model/model.json) under --runs</span>'}</div>
<div class="drop" id="drop">Drop the case's four NIfTI files here (<code>*_t1</code>, <code>*_t1ce</code>, <code>*_t2</code>, <code>*_flair</code> <code>.nii.gz</code>) or <input type="file" id="files" multiple accept=".nii,.gz"></div>
<p id="found" class="muted"></p>
<div class="controls"><button id="go" disabled>Segment</button> <span id="progress" class="muted"></span> <a id="download" style="display:none">download the segmentation (.nii.gz)</a></div>
<div class="nv-wrap" style="display:none" id="nv-wrap"><canvas id="nv"></canvas></div>`;
  const drop = document.getElementById('drop')!;
  drop.addEventListener('dragover', (e) => e.preventDefault());
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    addFiles([...(e.dataTransfer?.files ?? [])]);
  });
  document.getElementById('files')!.addEventListener('change', (e) => addFiles([...((e.target as HTMLInputElement).files ?? [])]));
  document.getElementById('go')!.addEventListener('click', () => {
    void segment().catch((err: Error) => {
      document.getElementById('progress')!.innerHTML = `<span class="status error" id="infer-error">${esc(err.message)}</span>`;
    });
  });
}

function addFiles(list: File[]): void {
  for (const f of list) {
    const m = /_(t1ce|t1|t2|flair)\.nii(\.gz)?$/i.exec(f.name);
    if (m) files.set(m[1]!.toLowerCase(), f);
  }
  const missing = MODALITIES.filter((m) => !files.has(m));
  document.getElementById('found')!.textContent = missing.length ? `missing: ${missing.join(', ')}` : `ready: ${MODALITIES.map((m) => files.get(m)!.name).join(', ')}`;
  (document.getElementById('go') as HTMLButtonElement).disabled = missing.length > 0 || !(document.getElementById('run') as HTMLSelectElement).value;
}

async function gunzipIfNeeded(bytes: Uint8Array): Promise<Uint8Array> {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function gzip(bytes: Uint8Array): Promise<Blob> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Response(stream).blob();
}

/** webgpu only on a real adapter (as the Node side's `auto`), else webgl, else cpu. */
async function pickBackend(): Promise<string> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<{ isFallbackAdapter?: boolean; info?: { isFallbackAdapter?: boolean } } | null> } }).gpu;
  if (gpu) {
    const adapter = await gpu.requestAdapter().catch(() => null);
    if (adapter && !(adapter.isFallbackAdapter ?? adapter.info?.isFallbackAdapter) && (await tf.setBackend('webgpu').catch(() => false))) return 'webgpu';
  }
  if (await tf.setBackend('webgl').catch(() => false)) return 'webgl';
  await tf.setBackend('cpu');
  return 'cpu';
}

async function segment(): Promise<void> {
  const progress = document.getElementById('progress')!;
  const say = (s: string) => (progress.textContent = s);
  const run = (document.getElementById('run') as HTMLSelectElement).value;
  const backend = await pickBackend();
  await tf.ready();
  say(`backend ${backend}: reading the images…`);
  const volumes: NiftiVolume<Float32Array>[] = [];
  for (const m of MODALITIES) {
    const f = files.get(m)!;
    volumes.push(decodeNifti(await gunzipIfNeeded(new Uint8Array(await f.arrayBuffer())), f.name, { as: 'float32' }) as NiftiVolume<Float32Array>);
  }
  const shape = volumes[0]!.shape;
  for (const v of volumes) if (v.shape.join() !== shape.join()) throw new Error(`${v.file}: shape ${v.shape.join('x')} differs from ${volumes[0]!.file} (${shape.join('x')})`);
  const pre = preprocessCase({ channels: volumes.map((v) => v.data), shape });
  say(`backend ${backend}: loading the model…`);
  const base = `/api/run-model/${encodeURIComponent(run)}/`;
  const requestInit = { headers: { 'x-voxseg-token': token } };
  const modelJson = (await (await fetch(`${base}model.json`, requestInit)).json()) as { userDefinedMetadata?: { voxseg?: { patchSize?: number } } };
  const patch = modelJson.userDefinedMetadata?.voxseg?.patchSize;
  if (!patch) throw new Error(`${run}/model/model.json: no patchSize in its voxseg metadata`);
  const model = await tfl.loadLayersModel(`${base}model.json`, { requestInit });
  const t0 = performance.now();
  try {
    // The CLI's defaults (voxseg predict): step 0.5, no TTA, threshold 0.5, ET < 200 voxels -> NCR.
    const out = await slidingWindowInference(pre.image, pre.shape, (x) => model.predict(x) as tf.Tensor | tf.Tensor[], {
      patchSize: patch,
      stepFraction: 0.5,
      mirror: false,
      windowBatchSize: 1,
      onProgress: (p) => say(`backend ${backend}: window ${p.done} / ${p.total}`),
    });
    const [d, h, w] = pre.shape;
    const cropped = regionsToLabels(out.data, [d, h, w], 0.5);
    postprocessEnhancing(cropped, { minVoxels: 200 });
    const labels = pasteIntoGrid(cropped, pre.cropBox, pre.originalShape, 1, 0) as Uint8Array;
    const blob = await gzip(encodeNifti(labels, { reference: volumes[0]!.header, datatype: 'uint8' }, 'segmentation'));
    const url = URL.createObjectURL(blob);
    const caseId = files.get('t1')!.name.replace(/_t1\.nii(\.gz)?$/i, '');
    const a = document.getElementById('download') as HTMLAnchorElement;
    a.href = url;
    a.download = `${caseId}.nii.gz`;
    a.style.display = '';
    say(`done on ${backend} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    progress.dataset.done = 'true';
    progress.dataset.backend = backend;
    await showOverlay(files.get('flair')!, blob);
  } finally {
    model.dispose();
  }
}

async function showOverlay(flair: File, seg: Blob): Promise<void> {
  document.getElementById('nv-wrap')!.style.display = '';
  const nv = new niivue.Niivue({ backColor: [0, 0, 0, 1], crosshairWidth: 0, isColorbar: false, dragAndDropEnabled: false });
  await nv.attachToCanvas(document.getElementById('nv') as HTMLCanvasElement);
  nv.setSliceType(nv.sliceTypeMultiplanar);
  await nv.loadVolumes([
    { url: URL.createObjectURL(flair), name: flair.name, colormap: 'gray' },
    { url: URL.createObjectURL(seg), name: 'segmentation.nii.gz', opacity: 0.7 },
  ]);
  nv.volumes[1].setColormapLabel(LABEL_COLOURMAP);
  nv.updateGLVolume();
}

main().catch((err: Error) => {
  app.innerHTML = `<p class="status error">${esc(err.message)}</p>`;
});
