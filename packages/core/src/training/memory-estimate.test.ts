import { describe, expect, it } from 'vitest';
import { availableMemory, type MemoryPlan, memoryRefusal } from './memory-estimate.js';

/** A made-up estimator: 1 GB per batch sample at patch 128, scaling with the voxels; checkpointing halves it. */
const toy = (p: MemoryPlan) => 1024 * p.batch * (p.patch / 128) ** 3 * (p.checkpointDecoder ? 0.5 : 1) + 100;

describe('memoryRefusal', () => {
  it('says nothing when the estimate fits', () => {
    expect(memoryRefusal({ patch: 128, batch: 2, checkpointDecoder: false }, toy, { mb: 4096, source: 'test' }, { canCheckpoint: true, overrideFlag: '--force' })).toBeUndefined();
  });

  it('refuses in one line naming the estimate, the memory, each single change that fits with its estimate, and the override', () => {
    const line = memoryRefusal({ patch: 128, batch: 2, checkpointDecoder: false }, toy, { mb: 1200, source: 'test cap' }, { canCheckpoint: true, overrideFlag: '--force' });
    // 2148 MB; checkpointing 1124 MB, batch 1 1124 MB, patch 112: 1472 (no), 96: 964 MB.
    expect(line).toBe(
      'estimated peak memory 2.1 GB (batch 2, patch 128) exceeds the 1.2 GB available (test cap); options that fit: --checkpoint-decoder (1.1 GB), --batch 1 (1.1 GB), --patch 96 (0.9 GB); --force runs it anyway',
    );
    expect(line!.split('\n')).toHaveLength(1);
  });

  it('offers combinations only when no single change fits, and never checkpointing for a network without stages', () => {
    // A 300 MB baseline and a 320 MB cap: no single change fits (patch 32 at batch 2 needs 332 MB).
    const heavy = (p: MemoryPlan) => toy(p) + 200;
    const combos = memoryRefusal({ patch: 128, batch: 2, checkpointDecoder: false }, heavy, { mb: 320, source: 's' }, { canCheckpoint: true, overrideFlag: '-f' });
    expect(combos).toContain('options that fit: --checkpoint-decoder --patch 32 (0.3 GB), --batch 1 --patch 32 (0.3 GB), --checkpoint-decoder --batch 1 --patch 32 (0.3 GB);');
    const noCkpt = memoryRefusal({ patch: 128, batch: 2, checkpointDecoder: false }, toy, { mb: 1200, source: 's' }, { canCheckpoint: false, overrideFlag: '-f' });
    expect(noCkpt).not.toContain('--checkpoint-decoder');
    const none = memoryRefusal({ patch: 128, batch: 1, checkpointDecoder: true }, toy, { mb: 50, source: 's' }, { canCheckpoint: true, overrideFlag: '-f' });
    expect(none).toContain('nothing tried fits');
  });
});

describe('memoryRefusal with encoder checkpointing', () => {
  /** The toy, where checkpointing the encoder too takes another quarter off. */
  const toyEnc = (p: MemoryPlan) => toy(p) * (p.checkpointEncoder ? 0.75 : 1);

  it('offers --checkpoint-decoder --checkpoint-encoder when checkpointing the decoder alone does not fit, and names what is checkpointed', () => {
    // 2148 MB plain; decoder 1124 MB (no, cap 1000), decoder + encoder 868 MB (fits); batch 1 1124 (no); patch 96: 964 MB.
    const line = memoryRefusal({ patch: 128, batch: 2, checkpointDecoder: false }, toyEnc, { mb: 1000, source: 'cap' }, { canCheckpoint: true, canCheckpointEncoder: true, overrideFlag: '-f' });
    expect(line).toBe('estimated peak memory 2.1 GB (batch 2, patch 128) exceeds the 1.0 GB available (cap); options that fit: --checkpoint-decoder --checkpoint-encoder (0.8 GB), --patch 96 (0.9 GB); -f runs it anyway');
    const already = memoryRefusal({ patch: 128, batch: 2, checkpointDecoder: true }, toyEnc, { mb: 1000, source: 'cap' }, { canCheckpoint: true, canCheckpointEncoder: true, overrideFlag: '-f' });
    expect(already).toContain('(batch 2, patch 128, decoder checkpointed)');
    expect(already).toContain('options that fit: --checkpoint-encoder (0.8 GB)');
    const both = memoryRefusal({ patch: 128, batch: 2, checkpointDecoder: true, checkpointEncoder: true }, toyEnc, { mb: 500, source: 'cap' }, { canCheckpoint: true, canCheckpointEncoder: true, overrideFlag: '-f' });
    expect(both).toContain('(batch 2, patch 128, encoder and decoder checkpointed)');
    expect(both).not.toContain('--checkpoint-');
  });
});

describe('availableMemory', () => {
  it('takes VOXSEG_MEMORY_LIMIT_MB over the machine, and refuses a malformed one', () => {
    expect(availableMemory({ VOXSEG_MEMORY_LIMIT_MB: '512' })).toEqual({ mb: 512, source: 'VOXSEG_MEMORY_LIMIT_MB' });
    expect(() => availableMemory({ VOXSEG_MEMORY_LIMIT_MB: 'lots' })).toThrow("VOXSEG_MEMORY_LIMIT_MB must be a positive number of MB, got 'lots'");
    const machine = availableMemory({});
    expect(machine.mb).toBeGreaterThan(0);
    expect(machine.source).toMatch(/physical memory|cgroup limit/);
  });
});
