import { fileURLToPath } from 'node:url';

/**
 * How tasks run `voxseg` (local process pool, Slurm jobs): `VOXSEG_COMMAND` when set
 * (whitespace-separated, e.g. `npx voxseg` or a container wrapper), else this Node.js and
 * this installation's `bin/voxseg.js`, by absolute path, so a cluster's compute nodes run the
 * same installation as the login node (a shared file system is assumed).
 */
export function voxsegCommand(env: NodeJS.ProcessEnv = process.env): string[] {
  const custom = env.VOXSEG_COMMAND?.trim();
  if (custom) return custom.split(/\s+/);
  return [process.execPath, fileURLToPath(new URL('../../bin/voxseg.js', import.meta.url))];
}
