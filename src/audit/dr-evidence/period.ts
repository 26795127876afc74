/**
 * The period of a DR evidence package: `--from` and `--to` as a day (2026-10-01, the whole day in UTC) or an
 * instant (2026-10-01T08:00:00Z, with its offset). Both ends are included. Parsed before anything is read, so bad
 * input costs nothing.
 */

export interface Period {
  /** first instant, ISO (UTC) */
  from: string;
  /** last instant, ISO (UTC), included */
  to: string;
  /** as given: '2026-10-01 … 2026-12-31' */
  label: string;
}

/** Thrown for a date that does not parse, or a period that ends before it starts; the message says which. */
export class PeriodError extends Error {
  override name = 'PeriodError';
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** A day's first instant in UTC (or undefined when it is no calendar day: 2026-02-30). */
function dayStart(text: string): Date | undefined {
  const m = DAY.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d ? date : undefined;
}

/**
 * One end of the period: a day (its start for `from`, its last millisecond for `to`) or an instant.
 * @throws PeriodError naming the flag and the forms it takes.
 */
export function parsePeriodEnd(flag: '--from' | '--to', text: string): Date {
  const value = text.trim();
  const day = dayStart(value);
  if (day) return flag === '--to' ? new Date(day.getTime() + 86_400_000 - 1) : day;
  if (INSTANT.test(value)) {
    const ms = Date.parse(value);
    const [date] = value.split('T');
    if (!Number.isNaN(ms) && dayStart(date as string)) return new Date(ms);
  }
  throw new PeriodError(
    `${flag} ${JSON.stringify(text)} is not a date: give a day (2026-10-01) or an instant with its offset ` +
      '(2026-10-01T08:00:00Z)',
  );
}

/**
 * The period from `--from` to `--to`, both included.
 * @throws PeriodError for a date that does not parse, or `--from` after `--to`.
 */
export function parsePeriod(fromText: string, toText: string): Period {
  const from = parsePeriodEnd('--from', fromText);
  const to = parsePeriodEnd('--to', toText);
  if (from.getTime() > to.getTime()) {
    throw new PeriodError(`--from ${fromText} is after --to ${toText}: the period ends before it starts`);
  }
  return { from: from.toISOString(), to: to.toISOString(), label: `${fromText.trim()} … ${toText.trim()}` };
}

/** The default folder: evidence/dr_<from>_<to>[_<group>] (as given, made safe for a file name). */
export function periodFolderName(fromText: string, toText: string, group?: string): string {
  const safe = (s: string): string => s.trim().replace(/[^A-Za-z0-9.-]+/g, '');
  return `dr_${safe(fromText)}_${safe(toText)}${group ? `_${group.replace(/[^A-Za-z0-9-]+/g, '_')}` : ''}`;
}
