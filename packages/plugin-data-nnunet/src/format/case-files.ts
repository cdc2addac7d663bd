import { DataError, describeSystemError, fileError } from '@voxseg/plugin-data-brats';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SUPPORTED_FILE_ENDINGS } from './dataset-json.js';

/** The image files of one case in an nnU-Net images folder (`imagesTr`, `imagesTs`, or any flat folder). */
export interface NnunetCaseFiles {
  /** Case identifier: the file name without `_XXXX<file_ending>`. */
  id: string;
  /** The file of each channel, by channel index (`<id>_0000<ending>` first). */
  images: string[];
}

/** Options of {@link listNnunetCases}. */
export interface ListNnunetCasesOptions {
  /**
   * The file ending (`.nii.gz` or `.nii`). Default: found from the folder (the one ending its
   * `_0000` files use; both at once is an error naming them).
   */
  fileEnding?: string;
  /**
   * Channels every case must have (`_0000` .. `_{channels-1}`), e.g. the length of
   * `channel_names`. Default: found from the folder (the highest channel index + 1).
   */
  channels?: number;
  /** Channel names, only to make errors say which channel is missing (e.g. `T2`). */
  channelNames?: readonly string[];
}

/** `<id>_XXXX<ending>`: nnU-Net's image file name for channel `channel` of a case. */
export function channelFileName(id: string, channel: number, fileEnding: string): string {
  return `${id}_${String(channel).padStart(4, '0')}${fileEnding}`;
}

/** `<id>_XXXX<ending>` parsed (ending among {@link SUPPORTED_FILE_ENDINGS}), or null. */
export function parseChannelFileName(name: string, fileEnding?: string): { id: string; channel: number; fileEnding: string } | null {
  for (const ending of fileEnding ? [fileEnding] : SUPPORTED_FILE_ENDINGS) {
    if (!name.endsWith(ending)) continue;
    const m = /^(.+)_(\d{4})$/.exec(name.slice(0, -ending.length));
    if (m) return { id: m[1]!, channel: Number(m[2]), fileEnding: ending };
  }
  return null;
}

/**
 * List the cases of a folder of nnU-Net-named images (`<case>_0000.nii.gz`, `<case>_0001.nii.gz`,
 * ...): case id -> channel files, sorted by id. This is nnU-Net's `imagesTr`/`imagesTs`
 * layout and what `nnUNetv2_predict -i` reads (`documentation/dataset_format_inference.md`).
 * Hidden files and files not named `<case>_XXXX<ending>` are ignored.
 *
 * @throws DataError, one line naming the folder or file, when the folder cannot be read,
 *   holds no such file, mixes `.nii` and `.nii.gz`, or a case lacks a channel file or has
 *   one beyond `channels`
 */
export async function listNnunetCases(dir: string, options: ListNnunetCasesOptions = {}): Promise<NnunetCaseFiles[]> {
  let names: string[];
  try {
    if (!(await stat(dir)).isDirectory()) throw fileError(dir, 'expected a folder of nnU-Net-named images (<case>_0000.nii.gz, ...), found a file');
    names = (await readdir(dir)).filter((n) => !n.startsWith('.'));
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw fileError(dir, `cannot read the images folder (${describeSystemError(err)})`);
  }
  const parsed = names.map((n) => parseChannelFileName(n, options.fileEnding)).filter((p) => p !== null);
  const endings = [...new Set(parsed.filter((p) => p.channel === 0).map((p) => p.fileEnding))];
  const expected = options.fileEnding ?? '.nii.gz';
  if (endings.length === 0) {
    const other = names.map((n) => parseChannelFileName(n)).filter((p) => p !== null && p.channel === 0);
    const hint = other.length > 0 ? ` (found ${other.length} ending in "${other[0]!.fileEnding}": does "file_ending" in dataset.json match the files?)` : '';
    throw fileError(dir, `no nnU-Net image files found (expected <case>_0000${expected}, <case>_0001${expected}, ...)${hint}`);
  }
  if (endings.length > 1) throw fileError(dir, `mixes file endings ${endings.map((e) => `"${e}"`).join(' and ')}; an nnU-Net folder uses one`);
  const ending = endings[0]!;
  const byId = new Map<string, Map<number, string>>();
  for (const p of parsed) {
    if (p.fileEnding !== ending) continue;
    let m = byId.get(p.id);
    if (!m) byId.set(p.id, (m = new Map()));
    m.set(p.channel, join(dir, channelFileName(p.id, p.channel, ending)));
  }
  const channels = options.channels ?? Math.max(...[...byId.values()].flatMap((m) => [...m.keys()])) + 1;
  const ids = [...byId.keys()].sort();
  return ids.map((id) => {
    const m = byId.get(id)!;
    const images: string[] = [];
    for (let c = 0; c < channels; c++) {
      const f = m.get(c);
      const name = options.channelNames?.[c] ? ` (${options.channelNames[c]})` : '';
      if (!f) throw fileError(join(dir, channelFileName(id, c, ending)), `expected the file of channel ${c}${name}, found no such file`, id);
      images.push(f);
    }
    const extra = [...m.keys()].filter((c) => c >= channels).sort((a, b) => a - b)[0];
    if (extra !== undefined) {
      throw fileError(m.get(extra)!, `channel ${extra} is beyond the ${channels} channel${channels === 1 ? '' : 's'} expected (channel_names in dataset.json)`, id);
    }
    return { id, images };
  });
}
