import { createHash, randomBytes } from 'node:crypto';
import { Type, type TSchema } from '@sinclair/typebox';
import { stopProcess, getService, type SshdInfo } from '@growoff/test-services';
import {
  ErrorResponse,
  OkResponse,
  TunnelOpenResult,
  modulePrefix,
  topics,
  validate,
  type ErrorCode,
} from '@growoff/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TunnelMqtt } from '../src/tunnel-mqtt';
import { TunnelSupervisor } from '../src/tunnel-supervisor';
import {
  killBastion,
  sessionOptions,
  startBastion,
  startModuleSshd,
  supervisorOptions,
  uniqueModuleId,
  type Bastion,
} from './support';

/*
 * The tunnel's request contract, ONE list: each `tunnel/req/{method}` with a request that succeeds
 * and, per error code it can answer, a request that draws that code, run over MQTT 5 and 3.1.1.
 */

/** Which tunnel app a request goes to. */
type App = 'on demand' | 'always on, pinned to a wrong bastion host key';

interface Call {
  payload: string;
  to?: App;
}

interface MethodContract {
  ok: Call & { result: TSchema };
  errors: Partial<Record<ErrorCode, Call>>;
}

const json = (value: unknown): string => JSON.stringify(value);
const NOT_JSON = '{"ttlSeconds": ';
const ALWAYS_ON: App = 'always on, pinned to a wrong bastion host key';

const METHODS: Record<string, MethodContract> = {
  open: {
    ok: { payload: json({ ttlSeconds: 60, reason: 'contract test' }), result: TunnelOpenResult },
    errors: {
      BAD_JSON: { payload: NOT_JSON },
      INVALID_MESSAGE: { payload: json({ ttlSeconds: 0, reason: 'contract test' }) },
      UNAVAILABLE: { payload: json({ ttlSeconds: 60, reason: 'contract test' }), to: ALWAYS_ON },
    },
  },
  close: {
    ok: {
      payload: json({ reason: 'contract test done' }),
      result: Type.Object({ tunnel: Type.Literal('closed') }),
    },
    errors: {
      BAD_JSON: { payload: NOT_JSON },
      INVALID_MESSAGE: { payload: json({ reason: '' }) },
      CONFLICT: { payload: '{}', to: ALWAYS_ON },
    },
  },
};

const UNKNOWN_METHOD = 'shell';

let bastion: Bastion;
let moduleSshd: SshdInfo;
let client5: MqttClient;
let client3: MqttClient;
const apps = new Map<App, { moduleId: string; supervisor: TunnelSupervisor; mqtt: TunnelMqtt }>();
const replies = new Map<string, (body: Record<string, unknown>) => void>();
const rejectionWaiters = new Set<(event: Record<string, unknown>) => void>();

function start(app: App, moduleId: string, supervisor: TunnelSupervisor): TunnelMqtt {
  const link = TunnelMqtt.start(supervisor, {
    connection: { url: getService('mosquitto').url, protocolVersion: 5 },
    moduleId,
    version: '9.9.9',
    bastion: 'contract',
    openAnswerTimeoutMs: 20_000,
  });
  apps.set(app, { moduleId, supervisor, mqtt: link });
  return link;
}

beforeAll(async () => {
  bastion = await startBastion('contract');
  moduleSshd = await startModuleSshd('contract');
  const onDemand = new TunnelSupervisor(supervisorOptions(bastion, moduleSshd.port));
  const wrongKey = `SHA256:${createHash('sha256').update(randomBytes(32)).digest('base64').replace(/=+$/, '')}`;
  const alwaysOn = new TunnelSupervisor(
    supervisorOptions(bastion, moduleSshd.port, {
      session: sessionOptions(bastion, moduleSshd.port, { hostKeyFingerprints: [wrongKey] }),
      alwaysOn: true,
      backoffMinMs: 2000,
      backoffMaxMs: 5000,
    }),
  );
  const links = [
    start('on demand', bastion.moduleId, onDemand),
    start(ALWAYS_ON, uniqueModuleId('contract-always'), alwaysOn),
  ];
  alwaysOn.start();
  await Promise.all(links.map((l) => l.ready()));

  const url = getService('mosquitto').url;
  client5 = await mqtt.connectAsync(url, { protocolVersion: 5 });
  client3 = await mqtt.connectAsync(url, { protocolVersion: 4 });
  for (const client of [client5, client3]) {
    client.on('message', (topic, payload, packet) => {
      if (payload.length === 0) return;
      const body = JSON.parse(payload.toString()) as Record<string, unknown>;
      if (body.type === 'command.rejected') for (const waiter of rejectionWaiters) waiter(body);
      const key = packet.properties?.correlationData?.toString() ?? topic;
      replies.get(key)?.(body);
    });
  }
  const filters = [...apps.values()].map((a) => `${modulePrefix(a.moduleId)}tunnel/res/+`);
  await client5.subscribeAsync([replyTopic(), ...[...apps.values()].map((a) => topics.events(a.moduleId))]);
  await client3.subscribeAsync(filters);
});

afterAll(async () => {
  for (const { moduleId, supervisor, mqtt: link } of apps.values()) {
    await supervisor.shutdown();
    await link.stop(2000);
    await client5?.publishAsync(topics.status(moduleId, 'tunnel'), '', { retain: true });
  }
  await client5?.endAsync();
  await client3?.endAsync();
  if (bastion) await killBastion(bastion);
  if (moduleSshd) await stopProcess(moduleSshd.pid);
});

function replyTopic(): string {
  return `test/${bastion.moduleId}/contract-replies`;
}

/** The next `command.rejected` event carrying `code`, awaited from now on. */
function nextRejection(code: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      rejectionWaiters.delete(waiter);
      reject(new Error(`no command.rejected ${code}`));
    }, 30_000);
    const waiter = (event: Record<string, unknown>) => {
      if ((event.data as { code?: string } | undefined)?.code !== code) return;
      clearTimeout(timer);
      rejectionWaiters.delete(waiter);
      resolve(event);
    };
    rejectionWaiters.add(waiter);
  });
}

function answerOn(key: string, what: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to ${what}`)), 30_000);
    replies.set(key, (body) => {
      clearTimeout(timer);
      replies.delete(key);
      resolve(body);
    });
  });
}

interface Transport {
  name: string;
  ask(app: App, method: string, payload: string): Promise<Record<string, unknown>>;
}

const TRANSPORTS: Transport[] = [
  {
    name: 'MQTT 5 with a response topic and correlation data',
    async ask(app, method, payload) {
      const { moduleId } = apps.get(app)!;
      const correlation = randomBytes(8).toString('hex');
      const answer = answerOn(correlation, `${method} (MQTT 5)`);
      await client5.publishAsync(topics.request(moduleId, 'tunnel', method), payload, {
        qos: 1,
        properties: { responseTopic: replyTopic(), correlationData: Buffer.from(correlation) },
      });
      return answer;
    },
  },
  {
    name: 'MQTT 3.1.1 on the res/ topic',
    async ask(app, method, payload) {
      const { moduleId } = apps.get(app)!;
      const answer = answerOn(topics.response(moduleId, 'tunnel', method), `${method} (3.1.1)`);
      await client3.publishAsync(topics.request(moduleId, 'tunnel', method), payload, { qos: 1 });
      return answer;
    },
  },
];

function expectValid(schema: TSchema, value: unknown): void {
  const checked = validate(schema, value);
  expect(checked.ok ? [] : checked.errors).toEqual([]);
}

it('has a contract for every request method the tunnel serves, and for no other', async () => {
  const answer = await TRANSPORTS[0]!.ask('on demand', UNKNOWN_METHOD, '{}');
  const error = answer.error as { code: string; message: string; details?: { methods?: string[] } };
  expect(error.code).toBe('UNKNOWN_METHOD');
  // The methods the app serves, as its UNKNOWN_METHOD answer names them.
  const served = error.details?.methods ?? /\(([^)]*)\)\s*$/.exec(error.message)?.[1]?.split(', ');
  expect(served?.sort()).toEqual(Object.keys(METHODS).sort());
});

describe.each(TRANSPORTS)('tunnel/req/{method} over $name', (t) => {
  for (const [method, contract] of Object.entries(METHODS)) {
    it(`${method} answers ok with its result`, async () => {
      const answer = await t.ask(contract.ok.to ?? 'on demand', method, contract.ok.payload);
      expectValid(OkResponse, answer);
      expect(answer.ok).toBe(true);
      expectValid(contract.ok.result, answer.result);
      if (method === 'open') {
        expect(answer.result).toMatchObject({ tunnel: 'open', remotePort: bastion.remotePort });
        await apps.get('on demand')!.supervisor.close('contract test done');
      }
    });

    for (const [code, call] of Object.entries(contract.errors)) {
      it(`${method} answers ${code} and raises command.rejected`, async () => {
        const app = call.to ?? 'on demand';
        const rejected = nextRejection(code);
        const answer = await t.ask(app, method, call.payload);
        expect(answer).toMatchObject({ ok: false, error: { code, message: expect.any(String) } });
        expectValid(ErrorResponse, answer);
        expect(await rejected).toMatchObject({ severity: 'warning' });
      });
    }
  }

  it('answers a method the tunnel does not have with UNKNOWN_METHOD', async () => {
    const answer = await t.ask('on demand', UNKNOWN_METHOD, '{"id":"u1"}');
    expect(answer).toMatchObject({ id: 'u1', ok: false, error: { code: 'UNKNOWN_METHOD' } });
    expectValid(ErrorResponse, answer);
  });
});

describe('a request whose method cannot name a topic level', () => {
  const invalid = 'two words';

  it('is answered over MQTT 5 with UNKNOWN_METHOD and its correlation data', async () => {
    const { moduleId } = apps.get('on demand')!;
    const correlation = randomBytes(8).toString('hex');
    const answer = answerOn(correlation, 'a method with a space');
    await client5.publishAsync(`${modulePrefix(moduleId)}tunnel/req/${invalid}`, '{"id":"n1"}', {
      qos: 1,
      properties: { responseTopic: replyTopic(), correlationData: Buffer.from(correlation) },
    });
    expect(await answer).toMatchObject({ id: 'n1', ok: false, error: { code: 'UNKNOWN_METHOD' } });
  });

  it('over MQTT 3.1.1, with no reply path, is dropped without harm: the next request is answered', async () => {
    const { moduleId } = apps.get('on demand')!;
    // In the app's process an unhandled rejection ends the process.
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const rejected = nextRejection('UNKNOWN_METHOD');
      await client3.publishAsync(`${modulePrefix(moduleId)}tunnel/req/${invalid}`, '{}', { qos: 1 });
      await rejected;
      const after = await TRANSPORTS[1]!.ask('on demand', 'close', '{}');
      expect(after).toMatchObject({ ok: true, result: { tunnel: 'closed' } });
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
