// core's part of `npm run bench`: metrics (HD95 / Dice on BraTS-sized volumes), the sliding
// window over a 240x240x155 case on the native backend (cpu when native is absent) and the
// trainer's loop overhead. Each script runs in its own process (they set tfjs backends).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function runScript(file, args = []) {
  const r = spawnSync(process.execPath, [join(here, file), ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const last = (r.stdout ?? '').trim().split('\n').filter(Boolean).pop() ?? '';
  process.stderr.write(r.stdout.split('\n').slice(0, -2).join('\n') + '\n');
  if (r.status !== 0) return { error: (r.stderr || `exit ${r.status}`).trim().split('\n').pop() };
  try {
    return JSON.parse(last);
  } catch {
    return { error: 'no JSON on the last line' };
  }
}

/** Run core's benchmarks; returns their figures keyed by script. */
export async function run() {
  return {
    metrics: runScript('metrics.bench.mjs', ['--json']),
    slidingWindow: runScript('sliding-window.bench.mjs', ['--backend', 'auto', '--json']),
    trainerStep: runScript('trainer-step.bench.mjs'),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run()));
