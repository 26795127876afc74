import type { TokenCredential } from '@azure/core-auth';
import { createClientSecretCredential } from '../../src/azure/credentials';
import {
  defaultScenario,
  startEmulator,
  type Emulator,
  type EmulatorOptions,
  type Principal,
  type Scenario,
} from '../../src/emulator';

/** LRO timing for tests: fast operations and no Retry-After, so pollers use their own short interval. */
export const TEST_LRO = { durationMs: 200, retryAfterSeconds: 0 } as const;
export const TEST_METADATA_TICK_MS = 100;

/**
 * Starts an emulator with the default scenario on free ports, fast LROs and a fast metadata tick.
 * Set GEOFAILOVER_EMULATOR_LOG=1 to see its log (and every ARM request) on stderr.
 */
export function startTestEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const verbose = Boolean(process.env.GEOFAILOVER_EMULATOR_LOG);
  return startEmulator({
    port: 0,
    controlPort: 0,
    metadataTickMs: TEST_METADATA_TICK_MS,
    log: verbose ? (line) => process.stderr.write(`[emulator] ${line}\n`) : undefined,
    accessLog: verbose,
    ...options,
    lro: { ...TEST_LRO, ...options.lro },
  });
}

/**
 * A credential for the emulator's tenant, as a client of real Azure would build one: `ClientSecretCredential`
 * with the emulator as authority host (its CA trusted). ARM accepts only the tokens it obtains.
 */
export function emulatorCredential(emulator: Emulator, principal?: Principal): TokenCredential {
  const identity = principal
    ? { ...emulator.identity, clientId: principal.clientId, clientSecret: principal.clientSecret }
    : emulator.identity;
  return createClientSecretCredential({ ...identity, caPem: emulator.caPem });
}

/**
 * What a Redis client sends to AUTH on the emulator's databases (access keys Disabled, as in the default
 * scenario): username = the principal's object id, password = a token the tenant issued for
 * https://redis.azure.com (the redis-servers accept it from the moment the token endpoint answers).
 */
export async function redisEntraAuth(
  emulator: Emulator,
  principal?: Principal,
): Promise<{ username: string; password: string }> {
  const got = await emulatorCredential(emulator, principal).getToken('https://redis.azure.com/.default');
  if (!got) throw new Error('the emulator issued no Redis token');
  const { oid } = JSON.parse(Buffer.from(got.token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    oid: string;
  };
  return { username: oid, password: got.token };
}

/**
 * `scenario` (default: the default scenario, whose access keys are Disabled) with access keys Enabled on every
 * database: for tests of listKeys itself, or of ARM behaviour that uses it.
 */
export function withAccessKeys(scenario: Scenario = defaultScenario()): Scenario {
  for (const cluster of scenario.clusters) {
    for (const database of cluster.databases) database.accessKeysAuthentication = 'Enabled';
  }
  return scenario;
}
