import { describe, expect, it } from 'vitest';
import { parseTopic, topics } from '../topics';
import {
  AckAlarmRequest,
  AlarmsMessage,
  CalibrationRequest,
  CalibrationStatus,
  History,
  HistoryQuery,
  validate,
} from './index';

describe('history, calibration and alarm messages', () => {
  it('takes a history query with optional from, to and step, and refuses a too fine step', () => {
    expect(validate(HistoryQuery, { sensor: 'ph' }).ok).toBe(true);
    expect(validate(HistoryQuery, { sensor: 'ph', from: 0, to: 10_000, step: 1000 }).ok).toBe(true);
    for (const bad of [{}, { sensor: 'ph', step: 10 }, { sensor: 'ph', from: -1 }, { sensor: 'ph', x: 1 }])
      expect(validate(HistoryQuery, bad).ok).toBe(false);
  });

  it('describes history points as [ts, value | null]', () => {
    const h = {
      sensor: 'ph',
      unit: 'pH',
      from: 0,
      to: 2000,
      step: 1000,
      points: [
        [0, 6.1],
        [1000, null],
      ],
    };
    expect(validate(History, h).ok).toBe(true);
    expect(validate(History, { ...h, points: [[0, 'x']] }).ok).toBe(false);
    expect(validate(History, { ...h, points: [[0]] }).ok).toBe(false);
  });

  it('takes each calibration action, and refuses unknown actions and a non-positive scale', () => {
    for (const action of ['mid', 'low', 'high', 'dry', 'single', 'clear', 'forced', 'offset'])
      expect(validate(CalibrationRequest, { action, value: 7 }).ok).toBe(true);
    expect(validate(CalibrationRequest, { action: 'boil' }).ok).toBe(false);
    expect(validate(CalibrationRequest, { action: 'offset', scale: 0 }).ok).toBe(false);
    expect(
      validate(CalibrationStatus, {
        sensor: 'ph',
        points: [{ action: 'mid', value: 7, at: 1 }],
        calibratedAt: 1,
        dueAt: null,
        due: false,
        offset: 0,
        scale: 1,
        actions: ['mid'],
      }).ok,
    ).toBe(true);
  });

  it('describes the retained alarms and an acknowledgement', () => {
    const alarm = { sensor: 'ph', limit: 'high', value: 7.2, since: 5, acknowledged: false };
    expect(validate(AlarmsMessage, { alarms: [alarm], ts: 6 }).ok).toBe(true);
    expect(validate(AlarmsMessage, { alarms: [{ ...alarm, limit: 'middle' }], ts: 6 }).ok).toBe(false);
    expect(validate(AckAlarmRequest, { sensor: 'ph', limit: 'low' }).ok).toBe(true);
    expect(validate(AckAlarmRequest, { sensor: 'ph' }).ok).toBe(false);
    expect(parseTopic(topics.alarms('m1'))).toEqual({ kind: 'alarms', moduleId: 'm1' });
  });
});
