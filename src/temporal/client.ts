/** A Temporal client connected with the resolved settings; a failure explained (src/temporal/diagnose.ts). */
import { Client, Connection, type ClientInterceptors } from '@temporalio/client';
import type { TemporalSettings } from './connection';
import { explainConnectFailure } from './diagnose';

/**
 * Connects a client to `settings`' server and namespace; `identity` is what history records for its starts,
 * signals and updates. Close it with `client.connection.close()`.
 * @throws TemporalConnectError saying why the connection failed and what to do.
 */
export async function connectTemporalClient(
  settings: TemporalSettings,
  options: { identity?: string; interceptors?: ClientInterceptors } = {},
): Promise<Client> {
  let connection: Connection;
  try {
    connection = await Connection.connect(settings.connectionOptions);
  } catch (e) {
    throw await explainConnectFailure(settings, e);
  }
  return new Client({
    connection,
    namespace: settings.namespace,
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.interceptors ? { interceptors: options.interceptors } : {}),
  });
}
