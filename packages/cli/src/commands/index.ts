import { benchCommand } from './bench.js';
import { checkCommand } from './check.js';
import { cvCommand } from './cv.js';
import { dashboardCommand } from './dashboard.js';
import { evaluateCommand } from './evaluate.js';
import { modelSummaryCommand } from './model-summary.js';
import { pluginsCommand } from './plugins.js';
import { predictCommand } from './predict.js';
import { synthCommand } from './synth.js';
import { trainCommand } from './train.js';
import type { CommandModule } from './types.js';

/** Every `voxseg` subcommand, in the order `--help` lists them. */
export const commands: CommandModule[] = [
  synthCommand,
  checkCommand,
  trainCommand,
  predictCommand,
  evaluateCommand,
  cvCommand,
  modelSummaryCommand,
  benchCommand,
  pluginsCommand,
  dashboardCommand,
];
