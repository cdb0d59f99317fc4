import { appendFile } from 'node:fs/promises';

/**
 * Lines a server refused are kept, not lost: appended to a line-protocol file with a comment
 * saying when and why, so an operator can fix and replay them.
 */
export class Quarantine {
  constructor(readonly path: string) {}

  async put(line: string, reason: string, message: string): Promise<void> {
    const why = message.replace(/\s+/g, ' ').slice(0, 500);
    try {
      await appendFile(this.path, `# ${new Date().toISOString()} ${reason}: ${why}\n${line}\n`);
    } catch {
      // The point is already counted as dropped; losing its copy must not stop delivery.
    }
  }
}
