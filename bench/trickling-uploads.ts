import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Uploads that never finish: each announces 8 MiB, sends 16 KiB, then a byte every 2 s (within CLIENT_TIMEOUT_MS). */
export interface TricklingUploads {
  /** How many have had no answer so far (so still hold their connection upstream). */
  unanswered(): number;
  stop(): void;
}

const ANNOUNCED = 8 * 1024 * 1024;
const FIRST = Buffer.alloc(16 * 1024, 0x75);
const TRICKLE_MS = 2000;

export async function trickleUploads(url: string, headers: Record<string, string>, count: number): Promise<TricklingUploads> {
  const { hostname, port, pathname } = new URL(url);
  const head = [
    `POST ${pathname} HTTP/1.1`,
    `host: ${hostname}:${port}`,
    `content-length: ${ANNOUNCED}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  const answered = new Set<Socket>();
  const sockets = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect(Number(port), hostname, () => {
            socket.write(`${head.join('\r\n')}\r\n\r\n`);
            socket.write(FIRST);
            resolve(socket);
          });
          socket.once('error', reject);
          socket.on('data', () => answered.add(socket));
        }),
    ),
  );
  for (const socket of sockets) socket.on('error', () => answered.add(socket));
  const trickle = setInterval(() => {
    for (const socket of sockets) if (!socket.destroyed) socket.write('u');
  }, TRICKLE_MS);
  // Long enough for every head to have reached the provider through the gateway.
  await sleep(1000);
  return {
    unanswered: () => sockets.filter((s) => !answered.has(s) && !s.destroyed).length,
    stop: () => {
      clearInterval(trickle);
      for (const socket of sockets) socket.destroy();
    },
  };
}
