/**
 * The worker's log lines: text as the SDK writes them, or one JSON object per line (time, level, message and the
 * SDK's attributes: workflow and activity ids, task queue...) for log pipelines. Filtered by level.
 */
import { DefaultLogger, type LogEntry, type Logger, type LogLevel } from '@temporalio/worker';

export type LogFormat = 'text' | 'json';

export const LOG_LEVELS: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/** JSON.stringify that survives what log attributes may hold: bigints, errors, cycles. */
function safeJson(value: Record<string, unknown>): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Error) return { name: v.name, message: v.message, ...(v.stack ? { stack: v.stack } : {}) };
    if (v && typeof v === 'object') {
      if (seen.has(v)) return '[circular]';
      seen.add(v);
    }
    return v;
  });
}

/** One log entry as a JSON line: `time` (ISO, from the SDK's nanosecond timestamp), `level`, `message`, attributes. */
export function jsonLogLine(entry: LogEntry): string {
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  const { level, message, meta } = entry;
  return safeJson({ time, level: level.toLowerCase(), message, ...(meta ?? {}) });
}

/**
 * The Runtime logger: `level` and up, as text (the SDK's format) or JSON lines, written to `write` (default
 * stderr, so that stdout stays for what commands print).
 */
export function createLogger(
  level: LogLevel,
  format: LogFormat,
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Logger {
  if (format === 'text') return new DefaultLogger(level);
  return new DefaultLogger(level, (entry) => write(jsonLogLine(entry)));
}
