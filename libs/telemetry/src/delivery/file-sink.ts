import { appendFile } from 'node:fs/promises';
import type { Lines } from '../queue/lines';
import type { SendResult, Sink } from './sink';

/** The demo sink when no URL is set: line protocol appended to a file. */
export class FileSink implements Sink {
  constructor(private readonly path: string) {}

  describe(): string {
    return `file ${this.path}`;
  }

  async send(lines: Lines): Promise<SendResult> {
    try {
      await appendFile(this.path, lines.body);
      return { kind: 'ok' };
    } catch (err) {
      return { kind: 'retry', message: `cannot append to ${this.path}: ${(err as Error).message}` };
    }
  }
}
