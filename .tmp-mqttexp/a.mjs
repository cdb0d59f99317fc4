import { connect } from 'mqtt';
const c = connect('mqtt://127.0.0.1:18830', { writeCache: false, clientId: 'memexp-a' + process.pid });
c.on('connect', () => c.subscribe('memexp/x'));
