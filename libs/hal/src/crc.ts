/** Sensirion CRC-8 (SHT3x datasheet §4.12, SCD4x §3.11): polynomial 0x31, init 0xFF, no reflection. */
export function sensirionCrc8(data: ArrayLike<number>): number {
  let crc = 0xff;
  for (let i = 0; i < data.length; i++) {
    crc ^= data[i] ?? 0;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ 0x31) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

/** Dallas/Maxim 1-Wire CRC-8 (DS18B20 datasheet, "CRC generation"): x^8+x^5+x^4+1, LSB first. */
export function dallasCrc8(data: ArrayLike<number>): number {
  let crc = 0;
  for (let i = 0; i < data.length; i++) {
    let byte = data[i] ?? 0;
    for (let bit = 0; bit < 8; bit++) {
      const mix = (crc ^ byte) & 0x01;
      crc >>= 1;
      if (mix) crc ^= 0x8c;
      byte >>= 1;
    }
  }
  return crc;
}
