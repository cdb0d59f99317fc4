/** The subset of i2c-bus's PromisifiedBus the drivers use; real and simulated buses both implement it. */
export interface I2cBus {
  i2cRead(address: number, length: number, buffer: Buffer): Promise<{ bytesRead: number; buffer: Buffer }>;
  i2cWrite(
    address: number,
    length: number,
    buffer: Buffer,
  ): Promise<{ bytesWritten: number; buffer: Buffer }>;
  readByte(address: number, command: number): Promise<number>;
  writeByte(address: number, command: number, byte: number): Promise<void>;
  /** SMBus word: low byte first on the wire. */
  readWord(address: number, command: number): Promise<number>;
  writeWord(address: number, command: number, word: number): Promise<void>;
  readI2cBlock(
    address: number,
    command: number,
    length: number,
    buffer: Buffer,
  ): Promise<{ bytesRead: number; buffer: Buffer }>;
  writeI2cBlock(
    address: number,
    command: number,
    length: number,
    buffer: Buffer,
  ): Promise<{ bytesWritten: number; buffer: Buffer }>;
  sendByte(address: number, byte: number): Promise<void>;
  receiveByte(address: number): Promise<number>;
  scan(): Promise<number[]>;
  close(): Promise<void>;
}

export const I2C_BUS_METHODS = [
  'i2cRead',
  'i2cWrite',
  'readByte',
  'writeByte',
  'readWord',
  'writeWord',
  'readI2cBlock',
  'writeI2cBlock',
  'sendByte',
  'receiveByte',
  'scan',
  'close',
] as const satisfies readonly (keyof I2cBus)[];
