export * from './axial-positional-embedding.js';
export * from './axial-attention-3d.js';
export * from './register.js';
export type { BaseLayerArgs } from './shape-utils.js';
