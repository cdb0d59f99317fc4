import '../console.css';
import { api, goToSignIn, leaveTo } from './api';
import { byId } from './dom';
import { ActuatorPanel } from './actuators';
import { AlarmPanel } from './alarms';
import { AppsPanel } from './apps';
import { CalibrationPanel } from './calibration';
import { ConfigForm } from './config-form';
import { EventLog } from './events';
import { Plots } from './plots';
import { ReadingsTable } from './readings';
import { SimulationPanel } from './simulation';
import type { ActuatorView, AppStatus, CoreEvent, Reading, Snapshot } from './types';

/** The console page: loads each section, then lives on the core's event stream (no polling). */
async function main(): Promise<void> {
  const session = await api<{ required: boolean; authenticated: boolean }>('GET', '/api/v1/session');
  if (session.ok && session.value.required && !session.value.authenticated) {
    goToSignIn();
    return;
  }
  const signOut = byId<HTMLButtonElement>('sign-out');
  signOut.hidden = !(session.ok && session.value.required);
  signOut.addEventListener('click', () => {
    void api('DELETE', '/api/v1/session').then(() => leaveTo('/sign-in'));
  });

  const readings = new ReadingsTable();
  const plots = new Plots();
  const actuators = new ActuatorPanel();
  const events = new EventLog();
  const alarms = new AlarmPanel();
  const calibration = new CalibrationPanel();
  const apps = new AppsPanel();
  const config = new ConfigForm();
  const sim = new SimulationPanel();
  await actuators.load();

  const status = byId('stream-status');
  let plotted = false;
  const stream = new EventSource('/api/v1/stream');
  stream.addEventListener('open', () => (status.textContent = 'live'));
  stream.addEventListener('error', () => {
    status.textContent = stream.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting…';
    // A stream refused outright (signed out, session expired) is closed by the browser for good.
    if (stream.readyState !== EventSource.CLOSED) return;
    void api<{ required: boolean; authenticated: boolean }>('GET', '/api/v1/session').then((s) => {
      if (s.ok && s.value.required && !s.value.authenticated) goToSignIn();
    });
  });
  const on = <T>(name: string, handle: (data: T) => void) =>
    stream.addEventListener(name, (m) => handle(JSON.parse((m as MessageEvent<string>).data) as T));
  on<Snapshot>('snapshot', (s) => {
    for (const r of s.readings) readings.update(r);
    for (const a of s.actuators) actuators.update(a);
    apps.set(s.apps);
    if (!plotted) {
      plotted = true;
      calibration.setSensors(readings.sensors());
      void plots.load(readings.sensors());
    }
  });
  on<Reading>('reading', (r) => {
    readings.update(r);
    plots.add(r);
  });
  on<ActuatorView>('actuator', (a) => actuators.update(a));
  on<AppStatus>('app', (a) => apps.update(a));
  on<CoreEvent>('event', (e) => {
    events.add(e);
    if (e.type.startsWith('alarm')) void alarms.load();
    if (e.type.startsWith('calibration')) void calibration.load();
  });
  on<unknown>('alarms', () => void alarms.load());

  await Promise.all([events.load(), alarms.load(), config.load(), sim.load()]);
}

void main();
