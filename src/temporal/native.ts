/** The workers' native connection with the resolved settings; a failure explained (src/temporal/diagnose.ts). */
import { NativeConnection } from '@temporalio/worker';
import type { TemporalSettings } from './connection';
import { explainConnectFailure } from './diagnose';

/**
 * Connects the workers' native connection to `settings`' server.
 * @throws TemporalConnectError saying why the connection failed and what to do.
 */
export async function connectNativeConnection(settings: TemporalSettings): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(settings.connectionOptions);
  } catch (e) {
    throw await explainConnectFailure(settings, e);
  }
}
