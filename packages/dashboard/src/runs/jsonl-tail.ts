import { promises as fs } from 'node:fs';

/** What one {@link JsonlTail.read} found. */
export interface JsonlChunk {
  /** The complete lines appended since the last read, parsed, in file order. */
  records: unknown[];
  /** Complete lines that were not valid JSON (a torn line from a crash); skipped. */
  skipped: number;
  /** True when the file was replaced or truncated since the last read: reading restarted at byte 0. */
  restarted: boolean;
}

/**
 * Follows a JSON-lines file that another process appends to (`events.jsonl`), by byte offset:
 * each {@link read} reads only the bytes appended since the previous one, so a long run's file
 * is never read twice.
 *
 * - A missing file reads as nothing (the run may not have started yet); it is picked up once it
 *   appears.
 * - A partial last line (the writer is mid-`write`) is held back until its newline arrives.
 * - A file that shrank or was replaced (a `--force` restart: different inode) is read again from
 *   the start, and the chunk says `restarted` so a client can drop what it had.
 */
export class JsonlTail {
  private offset = 0;
  private pending = Buffer.alloc(0);
  private inode: number | null = null;

  constructor(
    readonly path: string,
    /** Upper bound of bytes read per call, so one call never holds a huge file in memory. */
    private readonly maxBytesPerRead = 8 << 20,
  ) {}

  /** Bytes consumed so far (complete lines plus the held-back partial line). */
  get position(): number {
    return this.offset;
  }

  /** Read what was appended since the last call. */
  async read(): Promise<JsonlChunk> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], skipped: 0, restarted: false };
      throw err;
    }
    try {
      const stat = await handle.stat();
      let restarted = false;
      if ((this.inode !== null && stat.ino !== this.inode) || stat.size < this.offset) {
        restarted = this.offset > 0;
        this.offset = 0;
        this.pending = Buffer.alloc(0);
      }
      this.inode = stat.ino;
      const records: unknown[] = [];
      let skipped = 0;
      while (this.offset < stat.size) {
        const length = Math.min(stat.size - this.offset, this.maxBytesPerRead);
        const buf = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buf, 0, length, this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        const data = this.pending.length ? Buffer.concat([this.pending, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
        const lastNewline = data.lastIndexOf(0x0a);
        if (lastNewline < 0) {
          this.pending = Buffer.from(data);
          continue;
        }
        this.pending = Buffer.from(data.subarray(lastNewline + 1));
        for (const line of data.subarray(0, lastNewline).toString('utf8').split('\n')) {
          if (line.trim() === '') continue;
          try {
            records.push(JSON.parse(line));
          } catch {
            skipped++;
          }
        }
        if (records.length > 50_000) break; // the rest on the next call
      }
      return { records, skipped, restarted };
    } finally {
      await handle.close();
    }
  }
}
