/**
 * Emulated latencies, for measuring the runbook against realistic Azure timings: added before answering an ARM
 * read (GET) or write (PUT, PATCH, POST, DELETE), added to every long-running operation's duration, and added
 * to every new data-plane connection through a private endpoint (a probe's connect, TLS, AUTH and PING wait for
 * it). All default to zero. A setting, not a fault: `faults/reset` leaves them alone.
 */
import { z } from 'zod';

export const LATENCY_KINDS = ['arm-read', 'arm-write', 'lro', 'probe'] as const;
export type LatencyKind = (typeof LATENCY_KINDS)[number];
export type LatencySettings = Record<LatencyKind, number>;

/** An hour: far above any realistic latency, low enough that a typo cannot hang a test for a day. */
export const MAX_LATENCY_MS = 3_600_000;

const ms = z.number().int().min(0).max(MAX_LATENCY_MS);
export const latencySettingsSchema = z.strictObject({
  'arm-read': ms.optional(),
  'arm-write': ms.optional(),
  lro: ms.optional(),
  probe: ms.optional(),
});
export type LatencySettingsInput = z.input<typeof latencySettingsSchema>;

/** Thrown for a latency setting that cannot be understood (bad kind, duration or range). */
export class LatencySettingError extends Error {
  override name = 'LatencySettingError';
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** `150ms`, `1s`, `1.5s`, `2m`, or a bare number of milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new LatencySettingError(`${text}: expected a duration such as 150ms, 1s or 10s`);
  const value = Math.round(Number(m[1]) * (UNITS[m[2] ?? 'ms'] as number));
  if (value > MAX_LATENCY_MS) throw new LatencySettingError(`${text}: at most ${MAX_LATENCY_MS / 60_000} minutes`);
  return value;
}

/** `arm-read=150ms,arm-write=1s,lro=10s,probe=30ms` (any subset) → the settings it names. */
export function parseLatencySpec(spec: string): Partial<LatencySettings> {
  const out: Partial<LatencySettings> = {};
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const i = part.indexOf('=');
    const kind = part.slice(0, Math.max(0, i)).trim();
    if (i <= 0 || !(LATENCY_KINDS as readonly string[]).includes(kind)) {
      throw new LatencySettingError(`${part}: expected KIND=DURATION with KIND one of ${LATENCY_KINDS.join(', ')}`);
    }
    out[kind as LatencyKind] = parseDuration(part.slice(i + 1));
  }
  return out;
}

/** The emulator's current latencies; read on every request and connection, so changes apply at once. */
export class Latencies {
  #settings: LatencySettings = { 'arm-read': 0, 'arm-write': 0, lro: 0, probe: 0 };

  constructor(initial: Partial<LatencySettings> = {}) {
    this.set(initial);
  }

  /** Changes the kinds given (validated); the others keep their value. Returns every setting. */
  set(input: unknown): LatencySettings {
    const parsed = latencySettingsSchema.safeParse(input ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new LatencySettingError(
        `latencies: ${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'} ` +
          `(expected {"arm-read"?, "arm-write"?, "lro"?, "probe"?} in milliseconds, 0 to ${MAX_LATENCY_MS})`,
      );
    }
    for (const [kind, value] of Object.entries(parsed.data)) {
      if (value !== undefined) this.#settings[kind as LatencyKind] = value;
    }
    return this.get();
  }

  get(): LatencySettings {
    return { ...this.#settings };
  }

  /** Before answering an ARM request with this HTTP method. */
  forArmRequest(method: string): number {
    return method.toUpperCase() === 'GET' || method.toUpperCase() === 'HEAD'
      ? this.#settings['arm-read']
      : this.#settings['arm-write'];
  }

  lroMs(): number {
    return this.#settings.lro;
  }

  probeMs(): number {
    return this.#settings.probe;
  }
}
