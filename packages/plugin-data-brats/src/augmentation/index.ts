import type { AugmenterFactory } from '@voxseg/core';

/** Every augmenter this package registers (filled by the augmentation module). */
export const augmenterFactories: AugmenterFactory<any>[] = [];
