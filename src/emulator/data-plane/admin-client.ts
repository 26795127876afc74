import { createClient } from 'redis';

/** Where and how to reach one redis-server directly (not through a forwarder). */
export interface RedisTarget {
  host: string;
  port: number;
  password: string;
  /** an ACL user; default the `default` user */
  username?: string;
  /** For TLS databases: the CA to trust and the name the certificate is checked against. */
  tls?: { ca: string; servername: string };
}

export type AdminClient = ReturnType<typeof createClient>;

/**
 * Connects and authenticates once, without reconnecting: the data plane decides when a server is up, so a
 * dropped connection must surface instead of being retried in the background. `onLost` runs when an
 * established connection breaks. Throws what the connection attempt threw.
 */
export async function connectAdminClient(
  target: RedisTarget,
  options: { connectTimeoutInMs: number; onLost?: (client: AdminClient) => void },
): Promise<AdminClient> {
  const common = {
    host: target.host,
    port: target.port,
    connectTimeout: options.connectTimeoutInMs,
    reconnectStrategy: false as const,
  };
  const client = createClient({
    socket:
      target.tls === undefined
        ? common
        : { ...common, tls: true as const, ca: target.tls.ca, servername: target.tls.servername },
    ...(target.username !== undefined ? { username: target.username } : {}),
    password: target.password,
    // CLIENT SETINFO arrived in Redis 7.2; skip it rather than log refusals from 7.0.
    disableClientInfo: true,
  });
  let connected = false;
  client.on('error', () => {
    if (connected) options.onLost?.(client);
  });
  try {
    await client.connect();
  } catch (error) {
    discardClient(client);
    throw error;
  }
  connected = true;
  return client;
}

/** Drops a client whatever its state; a client whose server is gone cannot QUIT. */
export function discardClient(client: AdminClient): void {
  try {
    client.destroy();
  } catch {
    // Already closed.
  }
}
