import type { BlockFactory } from '@voxseg/core';

/**
 * The empty block: leaves a slot as it is (`create` returns `null`, so the builder adds no
 * layer). Registered as `identity` so a config can name the default explicitly.
 */
export const identityBlock: BlockFactory<Record<string, never>> = {
  name: 'identity',
  description: 'leaves the slot empty (no layer)',
  create: () => null,
};
