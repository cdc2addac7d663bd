import type { Augmenter, AugmenterFactory } from '../contracts/augmenter.js';
import type { Rng } from '../random/rng.js';

/**
 * Checks for an augmenter's options. Each throws a `RangeError` of one line naming the
 * augmenter, the option and the value: `RandGamma: option p must be a probability in [0, 1], got 2`.
 */
export interface OptionChecks {
  /** A probability in [0, 1]; returns it. */
  probability(option: string, value: unknown): number;
  /**
   * A closed range `[low, high]` of two finite numbers, low <= high; returns a copy. With
   * `bound`, `low` must also be `'positive'` (> 0) or `'non-negative'` (>= 0).
   */
  range(option: string, value: unknown, bound?: 'positive' | 'non-negative'): [number, number];
  /** Throw for an option that breaks `requirement` (e.g. `must be >= 0`). */
  invalid(option: string, requirement: string, value: unknown): never;
}

/** The checks of {@link OptionChecks} for the augmenter `owner`. */
export function optionChecks(owner: string): OptionChecks {
  const invalid = (option: string, requirement: string, value: unknown): never => {
    throw new RangeError(`${owner}: option ${option} ${requirement}, got ${JSON.stringify(value)}`);
  };
  return {
    probability(option, p) {
      if (typeof p !== 'number' || !(p >= 0 && p <= 1)) invalid(option, 'must be a probability in [0, 1]', p);
      return p as number;
    },
    range(option, r, bound) {
      if (!Array.isArray(r) || r.length !== 2 || !r.every((v) => typeof v === 'number' && Number.isFinite(v)) || r[0] > r[1]) {
        invalid(option, 'must be [low, high] with low <= high', r);
      }
      const [low, high] = r as [number, number];
      if (bound === 'positive' && !(low > 0)) invalid(option, 'must be positive', r);
      if (bound === 'non-negative' && !(low >= 0)) invalid(option, 'must be >= 0', r);
      return [low, high];
    },
    invalid,
  };
}

/** What {@link defineAugmenter} needs to know of an augmenter besides its transform. */
export interface AugmenterDefinition<O extends object> {
  /** Registry and log name, e.g. `RandGamma`. */
  name: string;
  /** `'spatial'` (moves voxels; the label follows) or `'intensity'` (image values only): see {@link Augmenter}. */
  kind: Augmenter['kind'];
  /** One line for `voxseg plugins` and docs (the registry entry's `description`). */
  description: string;
  /** Every option's default (the registry entry's `defaults`); the caller's options are merged over them. */
  defaults: Required<O>;
  /**
   * Check the merged options and return those the augmenter keeps (copies, normalised values).
   * Throw through `check`, so every error names the augmenter and the option.
   */
  validate(merged: Required<O>, check: OptionChecks): Required<O>;
  /**
   * The instance's name when it depends on the options (one class behind two registry
   * entries, e.g. `RandGamma` and `RandGammaInverted`). Default: {@link name}.
   */
  nameFor?(merged: Required<O>): string;
}

/**
 * What the base class from {@link defineAugmenter} gives an augmenter: its name, kind and
 * options in use. The subclass adds the transform (`apply` or `transformGrid`), which makes it
 * an {@link Augmenter}.
 */
export interface DefinedAugmenter<O extends object> extends Pick<Augmenter, 'name' | 'kind'> {
  /** The options in use: the caller's merged over the defaults, validated. */
  readonly options: Required<O>;
}

/** The base class {@link defineAugmenter} returns. */
export interface DefinedAugmenterClass<O extends object> {
  /**
   * Merge `options` over the definition's defaults and validate them.
   * @throws RangeError naming the augmenter and option when an option is invalid
   */
  new (options?: O): DefinedAugmenter<O>;
  /** The definition the class was made from. */
  readonly definition: AugmenterDefinition<O>;
  /** The registry entry of the (sub)class it is called on: name, description, defaults, `create`. */
  factory(this: new (options?: O) => Augmenter): AugmenterFactory<O>;
}

/**
 * The base class of an augmenter, from its definition: the name, kind, option defaults and
 * validation that every augmenter otherwise repeats, and its registry entry. The subclass adds
 * only its transform (`apply` or `transformGrid`), drawing every random number from the `rng`
 * it is given.
 *
 * @example
 * ```ts
 * export class RandInvert extends defineAugmenter<{ p?: number }>({
 *   name: 'RandInvert',
 *   kind: 'intensity',
 *   description: 'Negates the image (p 0.1)',
 *   defaults: { p: 0.1 },
 *   validate: (o, check) => ({ p: check.probability('p', o.p) }),
 * }) {
 *   apply(sample: Sample, rng: Rng): void {
 *     if (!chance(rng, this.options.p)) return;
 *     for (let i = 0; i < sample.image.length; i++) sample.image[i] = -sample.image[i]!;
 *   }
 * }
 * export const randInvertFactory = RandInvert.factory(); // ctx.registerAugmenter(randInvertFactory)
 * ```
 */
export function defineAugmenter<O extends object>(definition: AugmenterDefinition<O>): DefinedAugmenterClass<O> {
  return class implements DefinedAugmenter<O> {
    static readonly definition = definition;
    readonly name: string;
    readonly kind = definition.kind;
    readonly options: Required<O>;

    constructor(options?: O) {
      const merged = { ...definition.defaults, ...options } as Required<O>;
      this.name = definition.nameFor?.(merged) ?? definition.name;
      this.options = definition.validate(merged, optionChecks(this.name));
    }

    static factory(this: new (options?: O) => Augmenter): AugmenterFactory<O> {
      const Class = this;
      return { name: definition.name, description: definition.description, defaults: definition.defaults, create: (options) => new Class(options) };
    }
  };
}

/**
 * One draw from `rng`: true with probability `p` (`rng.next() < p`, batchgenerators'
 * `np.random.uniform() < p`), so p = 0 never fires and p = 1 always does. Augmenters gate a
 * sample with it, drawing exactly one number whatever the outcome.
 */
export function chance(rng: Rng, p: number): boolean {
  return rng.next() < p;
}
