import { describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../program.js';

async function run(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } };
  const code = await runCli(['node', 'voxseg', 'model-summary', ...args], io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const lastJson = (stdout: string) => JSON.parse(stdout.trimEnd().split('\n').at(-1)!) as { parameters: number; outputs: number[][] };

describe('voxseg model-summary', () => {
  // docs/method.md: 4 inputs, 3 outputs, 128^3.
  for (const [variant, parameters] of [['BL', 31_198_176], ['BL+L', 87_413_760], ['BL+GN', 31_198_176], ['BL+L+GN', 87_413_760]] as const) {
    it(`--variant ${variant} --json prints the reference count and 5 outputs`, async () => {
      const r = await run('--variant', variant, '--patch', '128', '--in-channels', '4', '--json');
      expect(r.code).toBe(0);
      expect(lastJson(r.stdout)).toEqual({ parameters, outputs: [128, 64, 32, 16, 8].map((e) => [e, e, e, 3]) });
    });
  }

  it('knows variants registered by other plugins (BL+AA from @voxseg/plugin-axial-attention)', async () => {
    const r = await run('--variant', 'BL+AA', '--patch', '64', '--json');
    expect(r.code).toBe(0);
    const { parameters, outputs } = lastJson(r.stdout);
    expect(outputs).toEqual([64, 32, 16, 8].map((e) => [e, e, e, 3]));
    const bl = lastJson((await run('--variant', 'BL', '--patch', '64', '--json')).stdout);
    expect(parameters).toBeGreaterThan(bl.parameters); // attention adds parameters to BL
  });

  it('prints a layer table without --json', async () => {
    const r = await run('--variant', 'BL', '--patch', '32');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^layer\s+type\s+output shape\s+parameters$/m);
    expect(r.stdout).toMatch(/^enc0_0_conv\s+Conv3DBias\s+\[32, 32, 32, 32\]\s+3,488$/m);
    expect(r.stdout).toMatch(/^trainable parameters: [\d,]+$/m);
  });

  it('an unknown variant is one line listing the valid ones; a bad number names the flag', async () => {
    const r = await run('--variant', 'XL');
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/unknown --variant "XL"; valid variants: /);
    const listed = r.stderr.trim().split('valid variants: ')[1]!.split(', ');
    expect(listed).toEqual(expect.arrayContaining(['BL', 'BL+GN', 'BL+L', 'BL+L+GN']));
    const bad = await run('--variant', 'BL', '--patch', 'big');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--patch must be a positive integer, got "big"/);
  });
});
