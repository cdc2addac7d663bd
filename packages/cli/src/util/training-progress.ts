import type { TrainingEvent } from '@voxseg/core';
import type { Logger } from './logger.js';
import { createProgress, formatDuration, type Progress, type ProgressOptions } from './progress.js';

/**
 * The part of an RxJS Observable this helper uses (so the CLI needs no direct rxjs
 * dependency): `trainer.events$` fits.
 */
export interface TrainingEventSource {
  subscribe(observer: { next(event: TrainingEvent): void; error(err: unknown): void; complete(): void }): { unsubscribe(): void };
}

export interface TrainingProgressOptions {
  logger: Logger;
  /** Passed to every epoch's {@link createProgress} (stream, mode, interval). */
  progress?: Omit<ProgressOptions, 'label' | 'total'>;
}

const fmt = (x: number | undefined, digits = 4) => (x === undefined ? '-' : Number.isFinite(x) ? x.toFixed(digits) : String(x));

/**
 * Show a training run in the terminal from its event stream: one progress bar per epoch
 * (iterations, loss, learning rate, ETA) and one summary line per epoch, plus run start/end,
 * checkpoints (at debug level) and errors. Subscribe before the run starts; the subscription
 * ends with the stream.
 *
 * ```ts
 * reportTrainingProgress(trainer.events$, { logger });
 * ```
 */
export function reportTrainingProgress(events$: TrainingEventSource, options: TrainingProgressOptions): { unsubscribe(): void } {
  const { logger } = options;
  let epochs = 0;
  let iterations = 0;
  let bar: Progress | undefined;
  const endBar = () => {
    bar?.stop();
    bar = undefined;
  };
  const say = (line: string, level: 'info' | 'warn' | 'error' | 'debug' = 'info') => {
    // Lines printed while a bar is live go through the bar, so they do not tear it.
    if (bar && level !== 'debug') bar.log(line);
    else logger[level](line);
  };
  return events$.subscribe({
    next: (e) => {
      switch (e.type) {
        case 'runStart':
          epochs = e.epochs;
          iterations = e.iterationsPerEpoch;
          say(
            `run ${e.runId}: ${e.network}, ${e.parameters.toLocaleString('en-US')} parameters, ${e.epochs} epochs x ${e.iterationsPerEpoch} iterations, backend ${e.backend}, seed ${e.seed}` +
              (e.resumed ? `, resumed at epoch ${e.startEpoch + 1}` : ''),
          );
          break;
        case 'epochStart':
          endBar();
          bar = createProgress({ ...options.progress, label: `epoch ${e.epoch + 1}/${epochs}`, total: iterations, unit: 'it' });
          break;
        case 'batchEnd':
          bar?.update(e.iteration + 1, `loss ${fmt(e.loss)} lr ${e.lr.toExponential(2)}`);
          break;
        case 'validationEnd':
          logger.debug(`validation: loss ${fmt(e.loss)}, pseudo-Dice ${Object.entries(e.dice).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}`);
          break;
        case 'epochEnd':
          endBar();
          say(
            `epoch ${e.epoch + 1}/${epochs}: train loss ${fmt(e.trainLoss)}, val loss ${fmt(e.valLoss)}, mean pseudo-Dice ${fmt(e.meanDice)} (EMA ${fmt(e.emaDice)}), lr ${e.lr.toExponential(2)}, ${formatDuration(e.ms)}`,
          );
          break;
        case 'checkpointSaved':
          logger.debug(`checkpoint (${e.kind}) saved: ${e.path}`);
          break;
        case 'error':
          say(`${e.fatal ? 'training failed' : 'warning'} (${e.source}): ${e.message}`, e.fatal ? 'error' : 'warn');
          break;
        case 'runEnd':
          endBar();
          say(`run ${e.reason} after ${e.epochsCompleted} epoch(s) in ${formatDuration(e.ms)}${e.message ? `: ${e.message}` : ''}`, e.reason === 'error' ? 'error' : 'info');
          break;
      }
    },
    complete: endBar,
    error: endBar,
  });
}
