import { randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh random access token (24 bytes, hex), as Jupyter prints one in its URL. */
export function createToken(): string {
  return randomBytes(24).toString('hex');
}

/** Constant-time comparison, so the token cannot be guessed byte by byte from response times. */
export function tokenMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
