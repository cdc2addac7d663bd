import { CliError } from '../commands/types.js';

/** Parse an integer flag value, naming the flag on error (commander passes strings). */
export function intFlag(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new CliError(`${flag}: expected an integer, got "${value}"`);
    return n;
  };
}

/** Parse a number flag value, naming the flag on error. */
export function numberFlag(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new CliError(`${flag}: expected a number, got "${value}"`);
    return n;
  };
}

/** Collect a repeatable flag's values (`--plugin a --plugin b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
