import 'reflect-metadata'; // before tsyringe, as in any entry point
import { container as rootContainer } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import type { Plugin } from '../contracts/plugin.js';
import type { SchedulerFactory } from '../contracts/scheduler.js';
import { createExperiment, Experiment } from './experiment.js';
import { createTestExperiment } from './experiment-builder.js';
import { Registry, RegistryError } from './registry.js';
import { REGISTRY_KINDS, token, Tokens } from './tokens.js';

/** A scheduler entry returning a constant learning rate: small, real, and easy to tell apart. */
const constantLr = (name: string, lr: number): SchedulerFactory => ({
  name,
  create: () => ({ name, learningRate: () => lr }),
});

const schedulersPlugin = (version = '1.0.0'): Plugin => ({
  name: 'test-schedulers',
  version,
  register(ctx) {
    ctx.registerScheduler(constantLr('poly', 0.01));
    ctx.registerScheduler(constantLr('constant', 0.1));
  },
});

const state = { epoch: 0, iteration: 0, epochs: 1, iterationsPerEpoch: 1, initialLr: 0.01 };

describe('Experiment', () => {
  it('gives each experiment its own registries: two experiments share no state', () => {
    const a = createExperiment({ plugins: [schedulersPlugin()] });
    const b = createExperiment();
    expect(a.registry('scheduler').names()).toEqual(['constant', 'poly']);
    expect(b.registry('scheduler').names()).toEqual([]);
    b.registry('loss').register({ name: 'only-in-b', create: () => ({ name: 'x', compute: () => { throw new Error('unused'); } }) });
    expect(a.registry('loss').has('only-in-b')).toBe(false);
    for (const kind of REGISTRY_KINDS) expect(a.registry(kind)).not.toBe(b.registry(kind));
    // nothing leaked into the process-wide root container
    expect(rootContainer.isRegistered(Tokens.scheduler.symbol)).toBe(false);
  });

  it('an unknown name fails listing the registered names', () => {
    const e = createExperiment({ plugins: [schedulersPlugin()] });
    expect(() => e.get('scheduler', 'cosine')).toThrow(RegistryError);
    expect(() => e.get('scheduler', 'cosine')).toThrow('Unknown scheduler "cosine"; registered: constant, poly');
    expect(() => e.get('scheduler', 'Poly')).toThrow('Unknown scheduler "Poly" (did you mean "poly"?); registered: constant, poly');
    expect(() => e.get('loss', 'dice')).toThrow('Unknown loss "dice"; registered: (none)');
  });

  it('a duplicate name fails unless registered with { override: true }', () => {
    const e = createExperiment({ plugins: [schedulersPlugin()] });
    const other = constantLr('poly', 0.5);
    expect(() => e.registry('scheduler').register(other)).toThrow(
      'A scheduler named "poly" is already registered; pass { override: true } to replace it',
    );
    expect(e.get('scheduler', 'poly').create({}, e).learningRate(state)).toBe(0.01);
    e.registry('scheduler').register(other, { override: true });
    expect(e.get('scheduler', 'poly').create({}, e).learningRate(state)).toBe(0.5);
  });

  it('a duplicate coming from a second plugin fails with that plugin named', () => {
    const clash: Plugin = { name: 'clash', version: '0.0.1', register: (ctx) => ctx.registerScheduler(constantLr('poly', 1)) };
    const e = createExperiment({ plugins: [schedulersPlugin()] });
    expect(() => e.use(clash)).toThrow('Plugin "clash" failed to register: A scheduler named "poly" is already registered');
    expect(e.pluginList()).toEqual([{ name: 'test-schedulers', version: '1.0.0' }]);
  });

  it('registering the same plugin twice is a no-op, even from a second factory call', () => {
    let calls = 0;
    const counting = (): Plugin => ({ name: 'counting', version: '2.0.0', register: () => void calls++ });
    const e = createExperiment({ plugins: [counting(), counting()] });
    e.use(counting());
    expect(calls).toBe(1);
    expect(e.pluginList()).toEqual([{ name: 'counting', version: '2.0.0' }]);
    // the same entry object registered twice is harmless too
    const entry = constantLr('x', 1);
    e.registry('scheduler').register(entry);
    e.registry('scheduler').register(entry);
    expect(e.registry('scheduler').names()).toEqual(['x']);
  });

  it('refuses two versions of one plugin, and a plugin factory passed uncalled', () => {
    const e = createExperiment({ plugins: [schedulersPlugin('1.0.0')] });
    expect(() => e.use(schedulersPlugin('1.1.0'))).toThrow('Plugin "test-schedulers" is already registered at version 1.0.0; cannot also register version 1.1.0');
    expect(() => e.use(schedulersPlugin as unknown as Plugin)).toThrow(/did you pass the factory instead of calling it/);
  });

  it('resolves tokens through the child container: parent values visible, child values private', () => {
    const Clock = token<{ now(): number }>('test.clock');
    const parent = rootContainer.createChildContainer();
    parent.register(Clock.symbol, { useValue: { now: () => 1 } });
    const a = createExperiment({ parent });
    const b = createExperiment({ parent });
    expect(a.resolve(Clock).now()).toBe(1);
    a.provide(Clock, { useValue: { now: () => 2 } });
    expect(a.resolve(Clock).now()).toBe(2);
    expect(b.resolve(Clock).now()).toBe(1);
    expect(parent.resolve<{ now(): number }>(Clock.symbol).now()).toBe(1);
    // registries resolve through the typed tokens
    const registry: Registry<SchedulerFactory> = a.resolve(Tokens.scheduler);
    expect(registry).toBe(a.registry('scheduler'));
  });

  it('useFactory providers are created once per experiment, lazily, with the experiment', () => {
    const Counter = token<{ id: number }>('test.counter');
    let made = 0;
    const e1 = new Experiment().provide(Counter, { useFactory: (ctx) => ({ id: ++made, hasRegistry: ctx.registry('loss') instanceof Registry }) });
    expect(made).toBe(0);
    expect(e1.resolve(Counter)).toBe(e1.resolve(Counter));
    expect(made).toBe(1);
  });

  it('resolving a token nobody provided names the token', () => {
    const Missing = token<number>('test.missing');
    const e = createExperiment();
    expect(e.has(Missing)).toBe(false);
    expect(() => e.resolve(Missing)).toThrow('Nothing is provided for token "test.missing" in this experiment');
  });

  it('plugins can register their own tokens in the experiment container', () => {
    const Greeting = token<string>('test.greeting');
    const p: Plugin = { name: 'greeter', version: '1.0.0', register: (ctx) => ctx.container.register(Greeting.symbol, { useValue: 'hello' }) };
    expect(createExperiment({ plugins: [p] }).resolve(Greeting)).toBe('hello');
    expect(createExperiment().has(Greeting)).toBe(false);
  });
});

describe('createTestExperiment', () => {
  it('overrides an entry and a provider after plugins registered, without touching other experiments', () => {
    const Greeting = token<string>('test.greeting2');
    const p: Plugin = { name: 'greeter', version: '1.0.0', register: (ctx) => ctx.container.register(Greeting.symbol, { useValue: 'hello' }) };
    const e = createTestExperiment({ plugins: [schedulersPlugin()] })
      .use(p)
      .overrideEntry('scheduler', constantLr('poly', 42))
      .overrideProvider(Greeting).useValue('stubbed greeting')
      .build();
    expect(e.get('scheduler', 'poly').create({}, e).learningRate(state)).toBe(42);
    expect(e.get('scheduler', 'constant').create({}, e).learningRate(state)).toBe(0.1);
    expect(e.resolve(Greeting)).toBe('stubbed greeting');
    const plain = createExperiment({ plugins: [schedulersPlugin(), p] });
    expect(plain.get('scheduler', 'poly').create({}, plain).learningRate(state)).toBe(0.01);
    expect(plain.resolve(Greeting)).toBe('hello');
  });

  it('builds independent experiments from one builder', () => {
    const builder = createTestExperiment().use(schedulersPlugin()).overrideProvider(token<number>('test.n')).useFactory(() => Math.PI);
    const a = builder.build();
    const b = builder.build();
    expect(a).not.toBe(b);
    expect(a.registry('scheduler')).not.toBe(b.registry('scheduler'));
    expect(a.resolve(token<number>('test.n'))).toBe(Math.PI);
  });
});
