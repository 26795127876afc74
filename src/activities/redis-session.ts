// One bounded node-redis session on a database's data plane, shared by the data-plane activities (memory, canary)
// and the rehearsal's canaries on the probe workers.
import net from 'node:net';
import tls from 'node:tls';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { FAILURE_TYPES } from '../contract/failures';
import { newRedisClient, type RedisSession } from '../redis/client';
import type { DataPlaneAccess } from './database-access';

export type { RedisSession };

/**
 * Runs `fn` on a fresh node-redis connection to the database (TLS per clientProtocol), bounded by `timeoutMs` and by
 * the activity's cancellation. The connection goes to hostName:port, or to `address` (HOST:PORT, the way an
 * application region reaches the member) with the TLS identity still checked against hostName.
 * @throws retryable ProbeFailed naming `what` when the connection or a command fails.
 */
export async function withRedis<T>(
  access: DataPlaneAccess,
  options: { caPem?: string; timeoutMs: number; what: string; address?: string },
  fn: (client: RedisSession) => Promise<T>,
): Promise<T> {
  const i = options.address?.lastIndexOf(':') ?? -1;
  const host = options.address && i > 0 ? options.address.slice(0, i) : access.hostName;
  const port = options.address && i > 0 ? Number(options.address.slice(i + 1)) : access.port;
  const socket = {
    host,
    port,
    connectTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
    reconnectStrategy: false as const,
  };
  // SNI cannot carry an IP address: then the certificate is checked against the cluster's host name directly.
  const identity =
    host === access.hostName
      ? {}
      : net.isIP(host)
        ? {
            checkServerIdentity: (_h: string, cert: tls.PeerCertificate) =>
              tls.checkServerIdentity(access.hostName, cert),
          }
        : { servername: access.hostName };
  const client = newRedisClient({
    ...(access.username !== undefined ? { username: access.username } : {}),
    password: access.password,
    socket: access.tls
      ? { ...socket, tls: true, ...(options.caPem ? { ca: options.caPem } : {}), ...identity }
      : socket,
  });
  // Connection-level failures arrive as 'error' events: keep the first one as the reason.
  let socketError: unknown;
  client.on('error', (e: unknown) => (socketError ??= e));
  const signal = Context.current().cancellationSignal;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const bounded = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    onAbort = () => reject(signal.reason ?? new Error('cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const close = (): void => {
    try {
      if (client.isOpen) client.destroy();
    } catch {
      // already closed
    }
  };
  const work = (async () => {
    await client.connect();
    return fn(client);
  })();
  // A session that outlives the timeout (a connect still in flight) is closed as soon as it settles.
  work.then(close, close);
  try {
    return await Promise.race([work, bounded]);
  } catch (e) {
    if (signal.aborted) throw signal.reason ?? e;
    const cause = e instanceof Error && !/Socket closed/i.test(e.message) ? e : (socketError ?? e);
    const message = (cause as Error)?.message ?? String(cause);
    throw ApplicationFailure.create({
      message: `${options.what}: data plane at ${host}:${port}${access.tls ? ' (TLS)' : ''}: ${message}`,
      type: FAILURE_TYPES.probeFailed,
    });
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
    close();
  }
}
