import { filter, type MonoTypeOperatorFunction, type OperatorFunction } from 'rxjs';
import type { TrainingEvent, TrainingEventType } from './types.js';

/**
 * Keep only events of the given types, and narrow the type so payload fields are typed:
 *
 * ```ts
 * trainer.events$.pipe(ofType('batchEnd')).subscribe((e) => console.log(e.loss, e.lr));
 * trainer.events$.pipe(ofType('epochEnd', 'runEnd')).subscribe((e) => ...);
 * ```
 */
export function ofType<K extends TrainingEventType>(...types: [K, ...K[]]): OperatorFunction<TrainingEvent, TrainingEvent<K>> {
  const wanted = new Set<string>(types);
  // The cast is the narrowing itself: TypeScript cannot relate the generic TrainingEvent<K> to
  // the union inside a type predicate, but the filter keeps exactly the events of types K.
  return filter((event: TrainingEvent) => wanted.has(event.type)) as unknown as OperatorFunction<TrainingEvent, TrainingEvent<K>>;
}

/**
 * Pass through every n-th value: the n-th, 2n-th, 3n-th, ... (1-based count per
 * subscription). Typical use: log every 50th batch, `events$.pipe(ofType('batchEnd'), every(50))`.
 *
 * Not RxJS's own `every` (a boolean predicate over the whole stream); import one of them
 * under another name if a file needs both.
 *
 * @param n a positive integer; `every(1)` passes everything.
 */
export function every<T>(n: number): MonoTypeOperatorFunction<T> {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`every(n): n must be a positive integer, got ${n}`);
  // filter's index counts per subscription, so two subscribers each get their own count.
  return filter((_value: T, index: number) => (index + 1) % n === 0);
}
