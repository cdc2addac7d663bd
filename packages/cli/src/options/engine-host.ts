import type { EngineHost } from '@voxseg/engine';
import type { Logger } from '../util/logger.js';
import { createProgress } from '../util/progress.js';

/** The engine reports through the CLI's logger (stderr) and progress bars. */
export function cliHost(logger: Logger): Required<EngineHost> {
  return { logger, progress: (o) => createProgress(o) };
}
