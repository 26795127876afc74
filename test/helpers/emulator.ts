import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator';

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
