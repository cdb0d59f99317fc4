// A stand-in core for the updater's tests: serves /health and /api/v1/update-lock on
// GROWOFF_HTTP_PORT and announces core/status online over a minimal MQTT 3.1.1 client.
// Like the real core, /health says degraded (reason mqtt) while it is not on the broker;
// FAKE_MODE=degraded adds the reasons in FAKE_REASONS.
import http from 'node:http';
import net from 'node:net';

const mode = process.env.FAKE_MODE || 'healthy';
const version = process.env.FAKE_VERSION || '0.0.0';
const port = Number(process.env.GROWOFF_HTTP_PORT || 8080);
const started = Date.now();

// As PID 1 node ignores SIGTERM unless handled; a real core shuts down on it too.
process.on('SIGTERM', () => process.exit(0));

if (mode === 'crash') setTimeout(() => process.exit(1), Number(process.env.FAKE_CRASH_AFTER_S || 1) * 1000);

const lockS = Number(process.env.FAKE_LOCK_S || 0);
const mqttUrl = process.env.GROWOFF_MQTT_URL;
let onBroker = false;
function health() {
  const reasons = [
    ...(mqttUrl && !onBroker ? ['mqtt'] : []),
    ...(mode === 'degraded' ? (process.env.FAKE_REASONS || 'sensors').split(',') : []),
  ];
  if (mode === 'unhealthy') return { status: 'down', version };
  return reasons.length > 0 ? { status: 'degraded', reasons, version } : { status: 'ok', version };
}
http
  .createServer((req, res) => {
    if (req.url === '/health') {
      res.writeHead(mode === 'unhealthy' ? 503 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...health(), uptimeS: (Date.now() - started) / 1000 }));
    } else if (req.url === '/api/v1/update-lock') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          lockS > 0 ? { held: true, reason: 'test job', since: started, maxAgeS: lockS } : { held: false },
        ),
      );
    } else {
      res.writeHead(404);
      res.end();
    }
  })
  .listen(port, '127.0.0.1');

function str(text) {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 255]), bytes]);
}
function packet(type, body) {
  const len = [];
  let n = body.length;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 128;
    len.push(byte);
  } while (n > 0);
  return Buffer.concat([Buffer.from([type, ...len]), body]);
}

const moduleId = process.env.GROWOFF_MODULE_ID;
if (mqttUrl && moduleId && mode !== 'unhealthy') {
  const url = new URL(mqttUrl);
  const topic = `growoff/v1/modules/${moduleId}/core/status`;
  const socket = net.connect(Number(url.port || 1883), url.hostname);
  socket.on('error', () => undefined);
  socket.on('close', () => (onBroker = false));
  socket.on('connect', () => {
    onBroker = true;
    const connect = Buffer.concat([
      str('MQTT'),
      Buffer.from([4, 2, 0, 60]),
      str(`fake-core-${process.pid}-${started}`),
    ]);
    socket.write(packet(0x10, connect));
    const status = JSON.stringify({ state: 'online', version, ts: Date.now() });
    socket.write(packet(0x31, Buffer.concat([str(topic), Buffer.from(status, 'utf8')])));
    setInterval(() => socket.write(Buffer.from([0xc0, 0])), 20_000).unref();
  });
  socket.on('data', () => undefined);
}
