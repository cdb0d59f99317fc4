import { Value } from '@sinclair/typebox/value';
import { createEvent, EVENT_REGISTRY, EVENT_TYPES, isEventType, type EventType } from '@growoff/protocol';
import { describe, expect, it } from 'vitest';
import { readSource, typeScriptFiles } from './source-tree';

/** The functions through which the apps raise contract events. */
const RAISERS = /\b(raiseEvent|emit|audit|stopDemand|createEvent)\(/g;
const EVENT_NAME = /'([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)'/g;

/** The argument text of the call whose `(` is at `open`, up to its matching `)`. */
function argumentsAt(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return text.slice(open + 1, i);
  }
  return text.slice(open + 1);
}

/** Shared code that raises events on the apps' behalf: the rate limiter's `event.suppressed`. */
const SHARED_RAISERS = ['libs/protocol/src/events/rate-limit.ts'];

/** Every event type literal passed to a raising call in an app's source (tests excluded). */
function raisedTypes(app: string): Map<string, string> {
  return raisedIn(typeScriptFiles(`apps/${app}/src`).filter((f) => !f.endsWith('.test.ts')));
}

function raisedIn(files: string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of files) {
    const text = readSource(file);
    for (const call of text.matchAll(RAISERS)) {
      const args = argumentsAt(text, call.index + call[0].length - 1);
      for (const name of args.matchAll(EVENT_NAME)) found.set(name[1]!, file);
    }
  }
  return found;
}

/** An event of the type with data made from its schema, through the registry's check. */
function raiseSample(type: EventType) {
  const info = EVENT_REGISTRY[type];
  return createEvent(type, `sample ${type}`, Value.Create(info.data) as never, { severity: info.severity });
}

const APPS = { core: 16, updater: 23, tunnel: 9 };

describe('event types the apps raise', () => {
  const byApp = Object.fromEntries(Object.keys(APPS).map((app) => [app, raisedTypes(app)]));

  for (const [app, atLeast] of Object.entries(APPS)) {
    it(`${app}: every type it raises is in the registry and passes the registry's check`, () => {
      const raised = byApp[app]!;
      expect(raised.size).toBeGreaterThanOrEqual(atLeast);
      for (const [type, file] of raised) {
        expect(isEventType(type), `${type} raised in ${file}`).toBe(true);
        expect(raiseSample(type as EventType)).toMatchObject({ type, message: `sample ${type}` });
      }
    });
  }

  it('registers no type that no app raises', () => {
    const raised = new Set([...Object.values(byApp), raisedIn(SHARED_RAISERS)].flatMap((m) => [...m.keys()]));
    expect(EVENT_TYPES.filter((t) => !raised.has(t))).toEqual([]);
  });
});
