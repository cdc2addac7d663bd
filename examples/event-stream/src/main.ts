/**
 * `npm start -w @voxseg/example-event-stream -- [--out DIR] [--epochs E] [--iterations I]
 *   [--patch P] [--seed S] [--max-batches N] [--patience N]`
 */
import { parseArgs } from 'node:util';
import { runEventStreamExample } from './run-example.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'runs/event-stream' },
    epochs: { type: 'string' },
    iterations: { type: 'string' },
    patch: { type: 'string' },
    seed: { type: 'string' },
    'max-batches': { type: 'string' },
    patience: { type: 'string' },
  },
});

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name}: expected a positive integer, got "${v}"`);
    process.exit(2);
  }
  return n;
}

const options = {
  outDir: values.out!,
  epochs: int('epochs', values.epochs),
  iterations: int('iterations', values.iterations),
  patch: int('patch', values.patch),
  seed: int('seed', values.seed),
  maxBatches: int('max-batches', values['max-batches']),
  patience: int('patience', values.patience),
};
const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as typeof options;
const result = await runEventStreamExample(defined);
console.log(`CSV: ${result.csvPath}\nevents: ${result.eventsPath}`);
process.exitCode = result.summary.reason === 'error' ? 1 : 0;
