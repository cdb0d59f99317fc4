const NEWLINE = 0x0a;

/**
 * Lines as a sink sends them: UTF-8, each ended by a newline, in one buffer, with where each one
 * starts. A batch of the queue is read into one of these without a JavaScript string per line, so
 * a backlog drains without filling the young generation with strings that survive its collections
 * (their copying was the event loop's longest pauses while a backlog drained).
 */
export class Lines {
  static readonly EMPTY = new Lines(Buffer.alloc(0), new Uint32Array(1), 0);

  /**
   * @param body the lines, each ended by a newline
   * @param starts where line i starts in `body` (`starts[count]` is `body.length`)
   */
  constructor(
    readonly body: Buffer,
    private readonly starts: Uint32Array,
    readonly count: number,
  ) {}

  /** Lines from strings (none may hold a newline: line protocol escapes them). */
  static of(lines: readonly string[]): Lines {
    const builder = new LinesBuilder();
    for (const line of lines) {
      const bytes = Buffer.from(line, 'utf8');
      builder.push(bytes, 0, bytes.length);
    }
    return builder.build();
  }

  /** Line `i`, without its newline. */
  line(i: number): string {
    return this.body.toString('utf8', this.starts[i], (this.starts[i + 1] as number) - 1);
  }

  toStrings(): string[] {
    return Array.from({ length: this.count }, (_, i) => this.line(i));
  }

  /** Lines `from` to `to` (exclusive), sharing this body's memory. */
  slice(from: number, to: number): Lines {
    const base = this.starts[from] as number;
    const starts = new Uint32Array(to - from + 1);
    for (let i = from; i <= to; i++) starts[i - from] = (this.starts[i] as number) - base;
    return new Lines(this.body.subarray(base, this.starts[to]), starts, to - from);
  }
}

/** Collects lines (byte ranges of other buffers) into one `Lines`, growing as it goes. */
export class LinesBuilder {
  private body = Buffer.allocUnsafe(64 * 1024);
  private starts = new Uint32Array(1024);
  private length = 0;
  private lines = 0;

  /** Lines pushed so far. */
  get count(): number {
    return this.lines;
  }

  /** Appends `source[start, end)` (one line's UTF-8 bytes) and its newline. */
  push(source: Buffer, start: number, end: number): void {
    const needed = this.length + (end - start) + 1;
    if (needed > this.body.length) {
      const body = Buffer.allocUnsafe(Math.max(needed, this.body.length * 2));
      this.body.copy(body, 0, 0, this.length);
      this.body = body;
    }
    if (this.lines + 2 > this.starts.length) {
      const starts = new Uint32Array(this.starts.length * 2);
      starts.set(this.starts);
      this.starts = starts;
    }
    this.starts[this.lines] = this.length;
    this.length += source.copy(this.body, this.length, start, end);
    this.body[this.length++] = NEWLINE;
    this.lines += 1;
  }

  build(): Lines {
    if (this.lines === 0) return Lines.EMPTY;
    this.starts[this.lines] = this.length;
    return new Lines(this.body.subarray(0, this.length), this.starts.subarray(0, this.lines + 1), this.lines);
  }
}
