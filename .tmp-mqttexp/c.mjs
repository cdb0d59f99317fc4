import MqttClient from 'mqtt/lib/client';
import net from 'node:net';
const C = MqttClient.default ?? MqttClient;
const c = new C(() => net.createConnection({ port: 18830, host: '127.0.0.1' }), { writeCache: false, clientId: 'memexp-c' + process.pid, protocolVersion: 4, clean: true, keepalive: 30, reconnectPeriod: 1000 });
c.on('connect', () => c.subscribe('memexp/x'));
