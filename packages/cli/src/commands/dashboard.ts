import type { Command } from 'commander';
import { ensureDir } from '@voxseg/core';
import { type DashboardServer, startDashboard } from '@voxseg/dashboard';
import { intFlag } from '../options/flags.js';
import { createLogger, type Logger } from '../util/logger.js';
import { CliError, type CommandModule } from './types.js';

/** `voxseg dashboard`: the local web app over a folder of runs (and prediction folders). */
export const dashboardCommand: CommandModule = {
  name: 'dashboard',
  register(program: Command) {
    program
      .command('dashboard')
      .description('local web app: live training runs, stop/checkpoint/learning-rate controls, prediction viewer, in-browser inference')
      .requiredOption('--runs <dir>', 'folder of runs (train --out / cv --out folders, searched 4 levels deep)')
      .option('--host <address>', 'address to listen on (anything but loopback is reachable from other machines)', '127.0.0.1')
      .option('--port <n>', 'port (0 picks a free one)', intFlag('--port'), 0)
      .option('--pred <dir>', 'a voxseg predict --out folder to show in the viewer')
      .option('--images <dir>', 'the cases of --pred (predict --input; also searched for ground truth)')
      .option('--evaluation <file>', 'voxseg evaluate --out JSON of --pred (default <pred>/evaluation.json)')
      .action(async (flags: { runs: string; host: string; port: number; pred?: string; images?: string; evaluation?: string }) => {
        const logger = createLogger();
        if ((flags.images || flags.evaluation) && !flags.pred) throw new CliError('--images and --evaluation describe a --pred folder; give --pred too');
        let server: DashboardServer;
        try {
          server = await startDashboard({
            runs: flags.runs,
            host: flags.host,
            port: flags.port,
            ...(flags.pred ? { predictions: [{ pred: flags.pred, ...(flags.images ? { images: flags.images } : {}), ...(flags.evaluation ? { evaluation: flags.evaluation } : {}) }] } : {}),
            logger: { info: (m) => logger.info(m), warn: (m) => logger.warn(m) },
          });
        } catch (err) {
          throw new CliError(dashboardError(err, flags));
        }
        process.stdout.write(`${server.url}\n`);
        logger.info('voxseg dashboard: open the URL above (it holds the access token); Ctrl-C to stop');
        await new Promise<void>((resolve) => {
          const stop = () => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            void server.close().then(resolve);
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
      });
  },
};

function dashboardError(err: unknown, flags: { host: string; port: number }): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return `--port ${flags.port}: already in use on ${flags.host}; pick another or --port 0`;
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return `--host ${flags.host}: not an address of this machine`;
  if (code === 'EACCES') return `--port ${flags.port}: not allowed (ports below 1024 need privileges)`;
  return (err as Error).message;
}

/**
 * `train|cv --dashboard`: serve the run (or the cv folder) while the command works, print the
 * page's URL, and stop serving when the command ends (after a moment, so open pages receive
 * the last events). For a dashboard that outlives the run, use `voxseg dashboard --runs`.
 */
export async function startRunDashboard(dir: string, page: 'run' | 'group', logger: Logger): Promise<() => Promise<void>> {
  await ensureDir(dir);
  let server: DashboardServer;
  try {
    server = await startDashboard({ runs: dir, logger: { info: (m) => logger.info(m), warn: (m) => logger.warn(m) } });
  } catch (err) {
    throw new CliError(`--dashboard: ${(err as Error).message}`);
  }
  const url = server.url.replace('/?', `/${page}?id=.&`);
  logger.info(`dashboard: ${url}`);
  return async () => {
    await new Promise((r) => setTimeout(r, 1500));
    await server.close();
  };
}
