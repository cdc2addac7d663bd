export { residualPointwiseBlock, type ResidualPointwiseOptions } from './residual-pointwise-block.js';
export { customBlockPlugin } from './plugin.js';
export { runCustomBlockExample, type CustomBlockExampleOptions, type CustomBlockExampleResult } from './run-example.js';
