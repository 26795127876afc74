import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Below this, ports are never handed out by the kernel (Linux's default ephemeral range starts at 32768). */
const FALLBACK_EPHEMERAL_LOW = 32768;
const STABLE_LOW = 20000;
const STABLE_ATTEMPTS = 50;

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 1024 ? low : FALLBACK_EPHEMERAL_LOW;
  } catch {
    return FALLBACK_EPHEMERAL_LOW;
  }
}

async function bindable(host: string, port: number): Promise<number | undefined> {
  const server = createServer();
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => resolve(true));
  });
  if (!bound) return undefined;
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address === null || typeof address === 'string' ? undefined : address.port;
}

/**
 * A TCP port that was free on `host` a moment ago. Another process may take it before the caller binds it,
 * so callers that hand it to redis-server retry on "address already in use".
 *
 * `stable`: a port below the kernel's ephemeral range. A database's port is its identity and must be free again
 * when the database comes back from an outage; a port the kernel hands out (an outgoing connection, another
 * process listening on port 0) could be taken meanwhile, one below that range only by another such pick.
 */
export async function findFreePort(host: string, options: { stable?: boolean } = {}): Promise<number> {
  if (options.stable) {
    const high = Math.min(ephemeralLow(), 65536) - 1;
    if (high > STABLE_LOW) {
      for (let attempt = 0; attempt < STABLE_ATTEMPTS; attempt++) {
        const port = await bindable(host, STABLE_LOW + Math.floor(Math.random() * (high - STABLE_LOW + 1)));
        if (port !== undefined) return port;
      }
    }
  }
  const port = await bindable(host, 0);
  if (port === undefined) throw new Error(`could not bind a port on ${host}`);
  return port;
}
