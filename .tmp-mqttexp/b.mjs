import { MqttClient } from 'mqtt';
import net from 'node:net';
const c = new MqttClient(() => net.createConnection({ port: 18830, host: '127.0.0.1' }), { writeCache: false, clientId: 'memexp-b' + process.pid, protocolVersion: 4, clean: true, keepalive: 30, reconnectPeriod: 1000 });
c.on('connect', () => c.subscribe('memexp/x'));
