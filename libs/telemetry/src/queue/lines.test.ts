import { describe, expect, it } from 'vitest';
import { Lines, LinesBuilder } from './lines';

const sample = ['sensor value=1 1', 'event,type=a\\ b message="ü €" 2', '', 'sensor value=3 3'];

describe('Lines', () => {
  it('holds each line once, newline-ended, in one body, and gives them back as they were (UTF-8 included)', () => {
    const lines = Lines.of(sample);
    expect(lines.count).toBe(4);
    expect(lines.body.toString('utf8')).toBe(`${sample.join('\n')}\n`);
    expect(lines.toStrings()).toEqual(sample);
    expect(lines.line(1)).toBe(sample[1]);
  });

  it('slices without copying the body, and a slice of a slice is the lines it names', () => {
    const lines = Lines.of(sample);
    const middle = lines.slice(1, 3);
    expect(middle.toStrings()).toEqual(sample.slice(1, 3));
    expect(middle.body.buffer).toBe(lines.body.buffer);
    expect(middle.body.toString('utf8')).toBe(`${sample[1]}\n\n`);
    expect(middle.slice(1, 2).toStrings()).toEqual(['']);
    expect(lines.slice(2, 2).count).toBe(0);
    expect(lines.slice(2, 2).body.length).toBe(0);
  });

  it('builds from byte ranges of other buffers, growing past its first sizes', () => {
    const builder = new LinesBuilder();
    const source = Buffer.from(`xx${'a'.repeat(100_000)}yy`);
    const many = 3000;
    for (let i = 0; i < many; i += 1) {
      const text = Buffer.from(`line ${i}`);
      builder.push(text, 0, text.length);
    }
    builder.push(source, 2, source.length - 2);
    const lines = builder.build();
    expect(lines.count).toBe(many + 1);
    expect(lines.line(0)).toBe('line 0');
    expect(lines.line(many - 1)).toBe(`line ${many - 1}`);
    expect(lines.line(many)).toBe('a'.repeat(100_000));
    expect(new LinesBuilder().build()).toBe(Lines.EMPTY);
  });
});
