import { describe, expect, it } from 'vitest';
import { dallasCrc8, sensirionCrc8 } from './crc';

describe('CRC-8', () => {
  it('computes the Sensirion datasheet example: 0xBEEF → 0x92', () => {
    expect(sensirionCrc8([0xbe, 0xef])).toBe(0x92);
  });

  it('computes the Dallas/Maxim CRC so a scratchpad with its CRC byte checks to zero', () => {
    // DS18B20 scratchpad as printed by w1_therm: 72 01 4b 46 7f ff 0e 10 57
    const pad = [0x72, 0x01, 0x4b, 0x46, 0x7f, 0xff, 0x0e, 0x10];
    expect(dallasCrc8(pad)).toBe(0x57);
    expect(dallasCrc8([...pad, 0x57])).toBe(0);
  });
});
