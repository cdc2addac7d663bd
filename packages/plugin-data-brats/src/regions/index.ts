export * from './brats-regions.js';
