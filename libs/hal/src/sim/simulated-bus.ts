import type { I2cBus } from '../bus/i2c-bus';
import type { Clock } from '../clock';
import { holdLikeASlowDevice, remoteIoError, type FaultTable } from './faults';
import type { SimDevice } from './models/sim-device';

/**
 * A bus of register-level device models. SMBus calls are expressed as the raw
 * write/read transfers they put on the wire, so every model sees what a chip sees.
 */
export class SimulatedBus implements I2cBus {
  private readonly devices = new Map<number, SimDevice>();
  transfers = 0;

  constructor(
    private readonly clock: Clock,
    private readonly faults: FaultTable,
  ) {}

  attach(device: SimDevice): void {
    if (this.devices.has(device.address)) {
      throw new RangeError(`two simulated devices at 0x${device.address.toString(16)}`);
    }
    this.devices.set(device.address, device);
  }

  private async device(address: number): Promise<SimDevice> {
    this.transfers++;
    const device = this.devices.get(address);
    const busyNack = device && !device.handlesBusy && this.faults.has(device.name, 'busy');
    if (
      !device ||
      busyNack ||
      this.faults.has(device.name, 'unplugged') ||
      this.faults.has(device.name, 'nack')
    ) {
      throw remoteIoError();
    }
    if (this.faults.has(device.name, 'slow'))
      // Longer than a 250 ms transaction timeout, the HAL's, even at its real floor.
      await holdLikeASlowDevice(this.clock, 600);
    return device;
  }

  private async writeRead(address: number, out: number[], length: number): Promise<Buffer> {
    const device = await this.device(address);
    device.write(Buffer.from(out));
    return device.read(length);
  }

  async i2cRead(address: number, length: number, buffer: Buffer) {
    const data = (await this.device(address)).read(length);
    data.copy(buffer, 0, 0, length);
    return { bytesRead: length, buffer };
  }

  async i2cWrite(address: number, length: number, buffer: Buffer) {
    (await this.device(address)).write(Buffer.from(buffer.subarray(0, length)));
    return { bytesWritten: length, buffer };
  }

  async readByte(address: number, command: number): Promise<number> {
    return (await this.writeRead(address, [command], 1))[0]!;
  }

  async writeByte(address: number, command: number, byte: number): Promise<void> {
    (await this.device(address)).write(Buffer.from([command, byte & 0xff]));
  }

  async readWord(address: number, command: number): Promise<number> {
    const data = await this.writeRead(address, [command], 2);
    return data[0]! | (data[1]! << 8);
  }

  async writeWord(address: number, command: number, word: number): Promise<void> {
    (await this.device(address)).write(Buffer.from([command, word & 0xff, (word >> 8) & 0xff]));
  }

  async readI2cBlock(address: number, command: number, length: number, buffer: Buffer) {
    const data = await this.writeRead(address, [command], length);
    data.copy(buffer, 0, 0, length);
    return { bytesRead: length, buffer };
  }

  async writeI2cBlock(address: number, command: number, length: number, buffer: Buffer) {
    // The command byte, then the block: what the wire carries (no spread of a Buffer, slow per byte).
    const n = Math.min(length, buffer.length);
    const data = Buffer.allocUnsafe(n + 1);
    data[0] = command;
    buffer.copy(data, 1, 0, n);
    (await this.device(address)).write(data);
    return { bytesWritten: length, buffer };
  }

  async sendByte(address: number, byte: number): Promise<void> {
    (await this.device(address)).write(Buffer.from([byte & 0xff]));
  }

  async receiveByte(address: number): Promise<number> {
    return (await this.device(address)).read(1)[0]!;
  }

  async scan(): Promise<number[]> {
    return [...this.devices.values()]
      .filter((d) => !this.faults.has(d.name, 'unplugged'))
      .map((d) => d.address)
      .sort((a, b) => a - b);
  }

  async close(): Promise<void> {}
}
