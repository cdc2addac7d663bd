// The prediction viewer: a predict/evaluate output, one case at a time in niivue (served from
// node_modules), the cases listed worst mean Dice first.
import type { PredictionCase } from '../src/predictions/prediction-case.js';
import { api, esc, fmtNum, link, metricsTable, param, setWhere, token } from './common.js';
import { LABEL_COLOURMAP } from './label-colours.js';

const MODALITIES = ['t1', 't1ce', 't2', 'flair'];

const set = param('set') ?? '0';
const app = document.getElementById('app')!;

interface SetResponse {
  name: string;
  cases: PredictionCase[];
  regions: string[];
  mean?: Record<string, { dice: number | null; hd95: number | null }>;
}

async function main(): Promise<void> {
  const data = await api<SetResponse>('/api/predictions', { set });
  setWhere(`predictions <b>${esc(data.name)}</b>`);
  if (!data.cases.length) {
    app.innerHTML = '<p class="muted">No predictions (&lt;case&gt;.nii.gz) in this folder yet.</p>';
    return;
  }
  const current = data.cases.find((c) => c.id === param('case')) ?? data.cases[0]!;
  const list = data.cases
    .map((c) => `<li><a data-case="${esc(c.id)}" class="${c.id === current.id ? 'active' : ''}" href="${esc(link('/viewer', { set, case: c.id }))}">${esc(c.id)}</a> <span class="muted">${c.meanDice !== undefined ? `Dice ${fmtNum(c.meanDice, 3)}` : ''}</span></li>`)
    .join('');
  const hasGt = current.files.includes('seg');
  const modalities = MODALITIES.filter((m) => current.files.includes(m));
  app.innerHTML = `
<div class="viewer">
  <div class="cases"><h2>Cases, worst first</h2><ol id="cases">${list}</ol>
    ${data.mean ? `<h2>Mean</h2>${metricsTable([{ label: 'mean', metrics: data.mean }])}` : ''}</div>
  <div>
    <h2>${esc(current.id)}</h2>
    <div class="controls">
      <label>image <select id="modality">${modalities.map((m) => `<option value="${m}" ${m === 'flair' ? 'selected' : ''}>${m.toUpperCase()}</option>`).join('')}</select></label>
      <label><input type="radio" name="overlay" value="pred" checked> prediction</label>
      <label><input type="radio" name="overlay" value="seg" id="gt" ${hasGt ? '' : 'disabled'}> ground truth${hasGt ? '' : ' (none)'}</label>
      <label><input type="radio" name="overlay" value="none"> no overlay</label>
      <label>opacity <input id="opacity" type="range" min="0" max="1" step="0.05" value="0.7"></label>
      <span class="legend"><span style="background:rgb(230,40,40)"></span>NCR (1)<span style="background:rgb(40,200,60)"></span>ED (2)<span style="background:rgb(250,220,30)"></span>ET (4)</span>
    </div>
    <div class="nv-wrap"><canvas id="nv"></canvas></div>
    <div id="case-metrics">${current.metrics ? metricsTable([{ label: current.id, metrics: current.metrics }]) : '<p class="muted">no evaluation for this case (pass --evaluation)</p>'}</div>
  </div>
</div>`;
  if (!modalities.length) {
    app.querySelector('.controls')!.insertAdjacentHTML('afterend', '<p class="muted">The case\'s images were not found: pass --images (the predict --input folder).</p>');
  }
  await showCase(current, modalities);
}

const fileUrl = (c: string, kind: string) => `/api/prediction-file?${new URLSearchParams({ set, case: c, kind, token }).toString()}`;

async function showCase(c: PredictionCase, modalities: string[]): Promise<void> {
  const nv = new niivue.Niivue({ backColor: [0, 0, 0, 1], crosshairWidth: 0, show3Dcrosshair: false, isColorbar: false, dragAndDropEnabled: false });
  await nv.attachToCanvas(document.getElementById('nv') as HTMLCanvasElement);
  nv.setSliceType(nv.sliceTypeMultiplanar);
  const canvas = document.getElementById('nv') as HTMLCanvasElement;
  const modalitySelect = document.getElementById('modality') as HTMLSelectElement;
  const opacityInput = document.getElementById('opacity') as HTMLInputElement;
  let centred = false;
  const overlayKind = () => (document.querySelector('input[name=overlay]:checked') as HTMLInputElement).value;
  const load = async () => {
    canvas.dataset.ready = 'false';
    const list: Record<string, unknown>[] = [];
    const modality = modalitySelect.value;
    if (modality) list.push({ url: fileUrl(c.id, modality), name: `${c.id}_${modality}.nii.gz`, colormap: 'gray' });
    const kind = overlayKind();
    if (kind !== 'none') list.push({ url: fileUrl(c.id, kind), name: `${c.id}_${kind}.nii.gz`, opacity: Number(opacityInput.value) });
    await nv.loadVolumes(list);
    const overlay = kind !== 'none' ? nv.volumes[nv.volumes.length - 1] : undefined;
    if (overlay) {
      overlay.setColormapLabel(LABEL_COLOURMAP);
      nv.updateGLVolume();
      // Open on the tumour: the slices through the labels' centroid (once; then the user navigates).
      if (!centred) {
        centred = true;
        // niivue places slices in its RAS voxel grid (the file's order may be flipped: BraTS is LPS).
        const c = labelCentroid(overlay.img2RAS() as ArrayLike<number>, overlay.dimsRAS as number[]);
        if (c) {
          nv.scene.crosshairPos = nv.vox2frac(c);
          nv.drawScene();
        }
      }
    }
    canvas.dataset.overlay = kind;
    canvas.dataset.ready = 'true';
  };
  modalitySelect.addEventListener('change', () => void load());
  for (const r of document.querySelectorAll('input[name=overlay]')) r.addEventListener('change', () => void load());
  opacityInput.addEventListener('input', () => {
    if (overlayKind() !== 'none' && nv.volumes.length) nv.setOpacity(nv.volumes.length - 1, Number(opacityInput.value));
  });
  void modalities;
  await load();
}


/** Centroid (voxel indices) of the non-zero voxels of a label volume with niivue dims [3, nx, ny, nz]. */
function labelCentroid(img: ArrayLike<number>, dims: number[]): [number, number, number] | undefined {
  const nx = dims[1]!;
  const ny = dims[2]!;
  let n = 0;
  let sx = 0;
  let sy = 0;
  let sz = 0;
  for (let i = 0; i < img.length; i++) {
    if (!img[i]) continue;
    n++;
    sx += i % nx;
    sy += Math.floor(i / nx) % ny;
    sz += Math.floor(i / (nx * ny));
  }
  return n ? [Math.round(sx / n), Math.round(sy / n), Math.round(sz / n)] : undefined;
}

main().catch((err: Error) => {
  app.innerHTML = `<p class="status error">${esc(err.message)}</p>`;
});
