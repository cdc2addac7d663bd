import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { corePlugin, createExperiment, every, ofType, Trainer, type TrainingSummary, writeEventsJsonl } from '@voxseg/core';
import { lossesPlugin } from '@voxseg/plugin-losses';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { examplePlugin } from './example-plugin.js';
import { sphereBatches } from './toy-data.js';

/** Options of {@link runEventStreamExample}; defaults give a ~1 minute run on one CPU core. */
export interface EventStreamExampleOptions {
  /** Run folder: checkpoints, events.jsonl, batches.csv. */
  outDir: string;
  /** Epochs. Default 4. */
  epochs?: number;
  /** Iterations per epoch. Default 25. */
  iterations?: number;
  /** Validation batches per epoch. Default 2. */
  valIterations?: number;
  /** Cubic patch edge. Default 16. */
  patch?: number;
  /** Seed of data, weights and run. Default 42. */
  seed?: number;
  /** Stop after this many training batches (a stop command). Default: no limit. */
  maxBatches?: number;
  /** Early stopping: stop when the smoothed loss has not improved by `minDelta` for this many batches. Default 30. */
  patience?: number;
  /** Smallest improvement of the smoothed loss that counts. Default 1e-3. */
  minDelta?: number;
  /** Print a live line every this many batches. Default 5. */
  printEvery?: number;
  /** Where lines go. Default `console.log`. */
  log?: (line: string) => void;
}

/** What the example produced. */
export interface EventStreamExampleResult {
  summary: TrainingSummary;
  /** Why the subscriber asked the trainer to stop, if it did. */
  stoppedBy?: 'max-batches' | 'plateau';
  csvPath: string;
  eventsPath: string;
}

/**
 * The whole example: compose an experiment in code from registered parts, train, and steer
 * the run only through the event stream and commands.
 */
export async function runEventStreamExample(options: EventStreamExampleOptions): Promise<EventStreamExampleResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const seed = options.seed ?? 42;
  const patch = options.patch ?? 16;
  await tf.setBackend('cpu');

  // 1. Compose: core's built-ins (poly scheduler, metrics), the losses plugin (nnU-Net's
  //    Dice + BCE, batch Dice, smooth 0 as the winners) and this example's tiny network.
  const experiment = createExperiment({ plugins: [corePlugin(), lossesPlugin(), examplePlugin()] });
  const loss = experiment.get('loss', 'dice-bce').create({ batchDice: true, smooth: 0 }, experiment);
  const scheduler = experiment.get('scheduler', 'poly').create({}, experiment);
  const model = experiment.get('network', 'tiny-conv').build({ inChannels: 1, outChannels: 2, patchSize: patch, seed }, experiment);

  mkdirSync(options.outDir, { recursive: true });
  const trainer = new Trainer({
    model,
    loss,
    scheduler,
    train: sphereBatches({ patch, seed }),
    val: sphereBatches({ patch, seed: seed + 1 }),
    epochs: options.epochs ?? 4,
    iterationsPerEpoch: options.iterations ?? 25,
    valIterations: options.valIterations ?? 2,
    initialLr: 0.01,
    outDir: options.outDir,
    seed,
    runId: `event-stream-${seed}`,
    network: 'tiny-conv',
    plugins: experiment.pluginList(),
    modelMeta: { network: 'tiny-conv', options: { inChannels: 1, outChannels: 2, patchSize: patch } },
  });

  // 2. Every event to events.jsonl (what `voxseg train` writes too).
  const eventsPath = join(options.outDir, 'events.jsonl');
  writeEventsJsonl(trainer.events$, eventsPath);

  // 3. Live metrics: every n-th batch, each validation, each epoch.
  const printEvery = options.printEvery ?? 5;
  trainer.events$.pipe(ofType('batchEnd'), every(printEvery)).subscribe((e) => {
    log(`epoch ${e.epoch} batch ${e.iteration}: loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)} (${e.ms.toFixed(0)} ms)`);
  });
  trainer.events$.pipe(ofType('validationEnd')).subscribe((e) => {
    const dice = Object.entries(e.dice).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ');
    log(`epoch ${e.epoch} validation: loss ${e.loss.toFixed(4)}, pseudo-Dice ${dice}`);
  });
  trainer.events$.pipe(ofType('epochEnd', 'checkpointSaved', 'runEnd', 'error')).subscribe((e) => {
    if (e.type === 'epochEnd') log(`epoch ${e.epoch} done: train loss ${e.trainLoss.toFixed(4)}, EMA Dice ${e.emaDice?.toFixed(3) ?? '-'}`);
    else if (e.type === 'checkpointSaved') log(`checkpoint ${e.kind} -> ${e.path}`);
    else if (e.type === 'error') log(`error (${e.source}${e.fatal ? ', fatal' : ''}): ${e.message}`);
    else log(`run ended: ${e.reason}${e.message ? ` (${e.message})` : ''} after ${e.epochsCompleted} epochs, ${(e.ms / 1000).toFixed(1)} s`);
  });

  // 4. A CSV of every batchEnd, written atomically when the stream completes.
  const csvPath = join(options.outDir, 'batches.csv');
  const rows: string[] = ['epoch,iteration,loss,lr,ms,timestamp'];
  trainer.events$.pipe(ofType('batchEnd')).subscribe({
    next: (e) => rows.push([e.epoch, e.iteration, e.loss, e.lr, e.ms, e.timestamp].join(',')),
    complete: () => {
      const tmp = `${csvPath}.tmp-${process.pid}`;
      writeFileSync(tmp, `${rows.join('\n')}\n`);
      renameSync(tmp, csvPath);
    },
  });

  // 5. Early stopping, as a subscriber sending a command: after maxBatches, or when an EMA of
  //    the batch loss stops improving.
  let stoppedBy: EventStreamExampleResult['stoppedBy'];
  const patience = options.patience ?? 30;
  const minDelta = options.minDelta ?? 1e-3;
  let batches = 0;
  let smoothed: number | undefined;
  let best = Number.POSITIVE_INFINITY;
  let sinceBest = 0;
  trainer.events$.pipe(ofType('batchEnd')).subscribe((e) => {
    batches++;
    smoothed = smoothed === undefined ? e.loss : 0.9 * smoothed + 0.1 * e.loss;
    if (smoothed < best - minDelta) {
      best = smoothed;
      sinceBest = 0;
    } else {
      sinceBest++;
    }
    if (stoppedBy) return;
    if (options.maxBatches !== undefined && batches >= options.maxBatches) {
      stoppedBy = 'max-batches';
      trainer.stop(`max batches (${options.maxBatches}) reached`);
    } else if (sinceBest >= patience) {
      stoppedBy = 'plateau';
      trainer.stop(`loss plateau: no improvement > ${minDelta} for ${patience} batches`);
    }
  });

  const summary = await trainer.run();
  model.dispose();
  return { summary, ...(stoppedBy ? { stoppedBy } : {}), csvPath, eventsPath };
}
