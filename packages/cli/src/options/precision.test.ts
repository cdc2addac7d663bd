import { nativeCapabilities, registerNativeBackend } from '@voxseg/backend-native';
import { describe, expect, it } from 'vitest';
import { CliError } from '../commands/types.js';
import { applyPrecision, parsePrecisionFlag } from './precision.js';

describe('--precision', () => {
  it('parses fp32 and bf16, refuses anything else in one line', () => {
    expect(parsePrecisionFlag('fp32')).toBe('fp32');
    expect(parsePrecisionFlag('bf16')).toBe('bf16');
    expect(() => parsePrecisionFlag('fp16')).toThrow(new CliError('--precision: expected fp32 | bf16, got "fp16"'));
  });

  it('fp32 sets nothing on any backend; bf16 on a non-native backend is refused in one line', () => {
    expect(() => applyPrecision('fp32', 'webgpu')).not.toThrow();
    expect(() => applyPrecision('bf16', 'cpu')).toThrow(
      '--precision bf16: needs the native backend (oneDNN bf16 convolutions), the active backend is cpu; use --backend native or --precision fp32',
    );
  });

  it('bf16 on a CPU without bf16 convolutions names the ISA (capabilities as the probe returns them)', () => {
    const noBf16 = () => ({ isa: 'avx2', bf16: false, bf16Impl: '', reason: 'oneDNN cannot create a bf16 convolution (unimplemented)' });
    expect(() => applyPrecision('bf16', 'native', noBf16)).toThrow(
      '--precision bf16: this CPU has no bf16 convolutions (oneDNN ISA avx2; needs AVX512-BF16 or AMX); use --precision fp32',
    );
  });

  it.skipIf(!registerNativeBackend().available)('bf16 with this CPU\'s own capabilities: refused exactly when the probe says no', () => {
    const caps = nativeCapabilities();
    if (caps.bf16) {
      expect(() => applyPrecision('bf16', 'native')).not.toThrow();
      applyPrecision('fp32', 'native');
    } else {
      expect(() => applyPrecision('bf16', 'native')).toThrow(`oneDNN ISA ${caps.isa}; needs AVX512-BF16 or AMX`);
    }
  });
});
