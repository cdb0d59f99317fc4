import type { CliIo } from '../cli-io';
import { fleetFilters } from '../fleet-topics';
import { renderFleet, FleetView } from '../fleet-view';
import { RETAINED_WAIT_MS, type MqttSession } from '../mqtt-session';

export interface StatusFlags {
  once?: boolean;
  json?: boolean;
  prefix?: string;
  channel?: string;
}

const SNAPSHOT_MAX_MS = 5_000;
const REDRAW_MS = 200;

/**
 * The fleet from the retained statuses. `--once` waits until the broker has delivered the retained
 * messages (a quiet window, since MQTT does not mark their end) and prints one table (or JSON);
 * the default live view redraws on every change until interrupted.
 */
export async function statusCommand(io: CliIo, session: MqttSession, flags: StatusFlags): Promise<FleetView> {
  const view = new FleetView({ prefix: flags.prefix, channel: flags.channel });
  const live = !flags.once;
  let changed = false;
  let lastMessageAt = Date.now();
  const onMessage = (topic: string, payload: Buffer, packet: { retain?: boolean }) => {
    if (view.apply(topic, payload)) changed = true;
    // Only the retained burst delays the snapshot; live traffic from a busy fleet does not.
    if (packet.retain) lastMessageAt = Date.now();
  };
  session.client.on('message', onMessage);
  const topics = [
    fleetFilters.statuses('core'),
    fleetFilters.statuses('updater'),
    fleetFilters.pins,
    fleetFilters.channels,
    ...(live ? [fleetFilters.events] : []),
  ];
  await session.client.subscribeAsync(topics, { qos: 0 });
  const subscribedAt = Date.now();

  try {
    if (!live) {
      // Poll: the end of the retained burst has no event of its own.
      while (Date.now() - lastMessageAt < RETAINED_WAIT_MS && Date.now() - subscribedAt < SNAPSHOT_MAX_MS) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      io.out(
        flags.json
          ? JSON.stringify({ channels: view.channelRows(), modules: view.rows() }, null, 2) + '\n'
          : renderFleet(view),
      );
      return view;
    }
    const draw = () => {
      changed = false;
      const body = renderFleet(view);
      io.out(io.isTty ? `\x1b[H\x1b[J${body}` : `${body}\n`);
    };
    draw();
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (changed) draw();
      }, REDRAW_MS);
      const stop = () => {
        clearInterval(timer);
        resolve();
      };
      if (io.signal?.aborted) stop();
      else io.signal?.addEventListener('abort', stop, { once: true });
    });
    return view;
  } finally {
    session.client.removeListener('message', onMessage);
  }
}
