import { describe, expect, it } from 'vitest';
import { EventBus } from '../event-bus';
import { AppStatusBoard } from './app-status';

describe('AppStatusBoard', () => {
  it('keeps the latest retained status of the updater and tunnel, and says when none is retained', () => {
    const bus = new EventBus();
    const board = new AppStatusBoard(bus, () => ({ state: 'online', version: '1.0.0' }));
    const seen: string[] = [];
    board.onChange((s) => seen.push(s.app));
    bus.emit('appStatus', {
      app: 'updater',
      payload: Buffer.from('{"state":"online","version":"2.0.0"}'),
      ts: 5,
    });
    expect(board.all()).toEqual([
      { app: 'core', status: { state: 'online', version: '1.0.0' }, receivedAt: expect.any(Number) },
      { app: 'updater', status: { state: 'online', version: '2.0.0' }, receivedAt: 5 },
      { app: 'tunnel', status: null, receivedAt: null },
    ]);
    bus.emit('appStatus', { app: 'updater', payload: Buffer.alloc(0), ts: 6 });
    expect(board.all()[1]).toEqual({ app: 'updater', status: null, receivedAt: 6 });
    expect(seen).toEqual(['updater', 'updater']);
  });

  it('turns what a broken or hostile publisher sends into an error, never a crash', () => {
    const parse = (s: string | Buffer) => AppStatusBoard.parse('tunnel', Buffer.from(s), 1);
    expect(parse('{oops')).toMatchObject({ status: null, error: 'status is not JSON' });
    expect(parse('[1,2]')).toMatchObject({ status: null, error: 'status is not a JSON object' });
    expect(parse('null')).toMatchObject({ status: null, error: 'status is not a JSON object' });
    expect(parse('{"version":"1"}')).toMatchObject({ status: null, error: 'status has no state' });
    expect(parse(Buffer.alloc(20_000, 0x20))).toMatchObject({ status: null, error: 'status too large' });
  });
});
