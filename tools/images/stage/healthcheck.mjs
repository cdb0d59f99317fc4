// The images' HEALTHCHECK, with node only (node:22-bookworm-slim has neither curl nor wget).
//   node healthcheck.mjs http PORT_VARIABLE DEFAULT_PORT PATH
//     healthy when http://127.0.0.1:<port>/<path> answers 2xx.
//   node healthcheck.mjs mqtt-status APP
//     for an app without an HTTP port (the tunnel): healthy when its retained
//     growoff/v1/modules/{id}/{app}/status on GROWOFF_MQTT_URL has a state other than offline.
const [mode, ...args] = process.argv.slice(2);
// Within the HEALTHCHECK's 10 s timeout, with room for Node's start on a Raspberry Pi. Where the
// container runs with a longer --health-timeout (the arm tests under qemu), GROWOFF_HEALTHCHECK_MS
// lifts this to match.
const limitMs =
  Number(process.env.GROWOFF_HEALTHCHECK_MS) > 0 ? Number(process.env.GROWOFF_HEALTHCHECK_MS) : 8000;
const deadline = setTimeout(() => fail(`no answer within ${limitMs / 1000} s`), limitMs);

function fail(reason) {
  console.error(`unhealthy: ${reason}`);
  process.exit(1);
}

function pass(what) {
  clearTimeout(deadline);
  console.log(`healthy: ${what}`);
  process.exit(0);
}

if (mode === 'http') {
  const [portVariable, defaultPort, path] = args;
  const url = `http://127.0.0.1:${process.env[portVariable] || defaultPort}${path}`;
  fetch(url).then(
    (res) => (res.ok ? pass(`${url} ${res.status}`) : fail(`${url} ${res.status}`)),
    (err) => fail(`${url} ${err.cause?.code ?? err.message}`),
  );
} else if (mode === 'mqtt-status') {
  const [app] = args;
  const moduleId = process.env.GROWOFF_MODULE_ID || 'dev-module';
  const brokerUrl = process.env.GROWOFF_MQTT_URL;
  if (!brokerUrl) fail('GROWOFF_MQTT_URL is not set');
  const { default: mqtt } = await import('mqtt');
  const topic = `growoff/v1/modules/${moduleId}/${app}/status`;
  const client = mqtt.connect(brokerUrl, {
    reconnectPeriod: 0,
    connectTimeout: 3000,
    clientId: `${app}-health-${process.pid}`,
  });
  client.on('error', (err) => fail(`broker: ${err.message}`));
  client.on('connect', () => client.subscribe(topic));
  client.on('message', (_topic, payload) => {
    let status;
    try {
      status = JSON.parse(payload.toString());
    } catch {
      fail(`${topic} is not JSON`);
    }
    // Any published state but offline (the will) means the app runs and speaks to the broker.
    if (typeof status?.state === 'string' && status.state !== 'offline') pass(`${topic} ${status.state}`);
    else fail(`${topic} state ${status?.state}`);
  });
} else {
  fail(`unknown mode '${mode}'`);
}
