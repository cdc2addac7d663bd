/**
 * An error for people, raised by the engine on bad input (a config key, a folder, a name): one
 * line naming the file, key or flag and what is wrong. The CLI prints `message` alone.
 */
export class EngineError extends Error {
  override name = 'EngineError';
}
