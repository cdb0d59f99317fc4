import { createServer, type Server, type Socket } from 'node:net';

export interface EmbeddedBroker {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** An in-process MQTT 3.1.1 broker (aedes) for the demo and for running without a cloud broker. */
export async function startEmbeddedBroker(host: string, port: number): Promise<EmbeddedBroker> {
  // Loaded only when no broker URL is set: a module with a cloud broker never pays for aedes.
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;
  return {
    url: `mqtt://${host}:${actualPort}`,
    port: actualPort,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}
