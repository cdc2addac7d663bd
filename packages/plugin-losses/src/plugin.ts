import { type Plugin, pluginVersion } from '@voxseg/core';
import { bceLossFactory, deepSupervisionLossFactory, diceBceLossFactory, softDiceLossFactory } from './losses/factories.js';

/**
 * The losses plugin: registers `bce`, `soft-dice`, `dice-bce` and `deep-supervision` (which
 * wraps any registered loss by name) as Loss factories.
 */
export function lossesPlugin(): Plugin {
  return {
    name: '@voxseg/plugin-losses',
    version: pluginVersion(import.meta.url),
    register(ctx) {
      for (const factory of [bceLossFactory, softDiceLossFactory, diceBceLossFactory, deepSupervisionLossFactory]) {
        ctx.registerLoss(factory);
      }
    },
  };
}
