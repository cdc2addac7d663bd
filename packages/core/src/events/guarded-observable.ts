import { Observable, Subscriber, type Observer, type Operator, type Subscription } from 'rxjs';

/**
 * Called with whatever a subscriber's handler threw. `phase` says which handler threw
 * (`next`, `error` or `complete`), or `unhandled` for an error that reached a subscriber
 * without an `error` handler (e.g. thrown inside a `map` in the user's pipe).
 */
export type SubscriberErrorHandler = (error: unknown, phase: 'next' | 'error' | 'complete' | 'unhandled') => void;

/**
 * An Observable whose subscribers cannot hurt the producer.
 *
 * RxJS 7 catches an exception thrown by a subscriber's `next` and reports it through
 * `config.onUnhandledError`, whose default rethrows it from a `setTimeout`: in Node that
 * crashes the process, long after the event, far from the code that caused it. Setting the
 * global config would change every other RxJS user in the process, so instead this class
 * wraps the handlers a user passes to {@link GuardedObservable.subscribe} in `try/catch` and
 * hands the exception to an {@link SubscriberErrorHandler} (the event bus reports it as an
 * `error` event and logs it).
 *
 * `lift` is overridden so every RxJS pipeable operator (`filter`, `map`, our `ofType`, ...)
 * returns a GuardedObservable too: `events$.pipe(ofType('batchEnd')).subscribe(fn)` is
 * guarded exactly like `events$.subscribe(fn)`. A custom operator written without `lift`
 * (`source => new Observable(...)`) returns a plain Observable; wrap its result with
 * {@link GuardedObservable.guard} (or `bus.guard(obs)`) to keep the protection.
 *
 * Internal `Subscriber` instances (what operators pass when they subscribe upstream) are
 * passed through untouched, so unsubscription chains keep working. A user who passes their
 * own `Subscriber` instance opts out of the guard.
 */
export class GuardedObservable<T> extends Observable<T> {
  /** @internal the handler every subscriber of this chain reports to. */
  readonly onSubscriberError: SubscriberErrorHandler;

  constructor(onSubscriberError: SubscriberErrorHandler, subscribe?: (subscriber: Subscriber<T>) => (() => void) | Subscription | void) {
    super(subscribe);
    this.onSubscriberError = onSubscriberError;
  }

  /** Wrap any observable so its subscribers are guarded by `onSubscriberError`. */
  static guard<T>(source: Observable<T>, onSubscriberError: SubscriberErrorHandler): GuardedObservable<T> {
    return new GuardedObservable<T>(onSubscriberError, (subscriber) => source.subscribe(subscriber));
  }

  /** Same as RxJS's `lift`, but the result stays a GuardedObservable (so pipes stay guarded). */
  override lift<R>(operator?: Operator<T, R>): GuardedObservable<R> {
    const observable = new GuardedObservable<R>(this.onSubscriberError);
    // `source` and `operator` are how RxJS 7 chains lifted observables (deprecated as public
    // API, but they are exactly what Observable.prototype.lift sets).
    (observable as unknown as { source: Observable<T> }).source = this;
    (observable as unknown as { operator?: Operator<T, R> }).operator = operator;
    return observable;
  }

  override subscribe(observerOrNext?: Partial<Observer<T>> | ((value: T) => void) | null): Subscription;
  /** @deprecated as in RxJS: pass an observer object instead of three callbacks. */
  override subscribe(next?: ((value: T) => void) | null, error?: ((error: any) => void) | null, complete?: (() => void) | null): Subscription;
  override subscribe(
    observerOrNext?: Partial<Observer<T>> | ((value: T) => void) | null,
    error?: ((error: any) => void) | null,
    complete?: (() => void) | null,
  ): Subscription {
    if (observerOrNext instanceof Subscriber) return super.subscribe(observerOrNext);
    const observer: Partial<Observer<T>> =
      typeof observerOrNext === 'function' || observerOrNext == null
        ? { next: observerOrNext ?? undefined, error: error ?? undefined, complete: complete ?? undefined }
        : observerOrNext;
    return super.subscribe(guardObserver(observer, this.onSubscriberError));
  }
}

/**
 * A plain observer whose handlers never throw: exceptions go to `report`. An observer without
 * an `error` handler gets one that reports the error, so RxJS never sees an unhandled error.
 */
function guardObserver<T>(observer: Partial<Observer<T>>, report: SubscriberErrorHandler): Observer<T> {
  const call = (phase: 'next' | 'error' | 'complete', fn: () => void) => {
    try {
      fn();
    } catch (err) {
      report(err, phase);
    }
  };
  return {
    next: (value) => {
      if (observer.next) call('next', () => observer.next!.call(observer, value));
    },
    error: (err) => {
      if (observer.error) call('error', () => observer.error!.call(observer, err));
      else report(err, 'unhandled');
    },
    complete: () => {
      if (observer.complete) call('complete', () => observer.complete!.call(observer));
    },
  };
}
