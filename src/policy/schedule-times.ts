// Whether an instant is one of a rehearsal schedule's times, from the spec a standing order names. A copy of the order
// in a run started by hand (Temporal lets a client set the "started by schedule" attribute itself) then works only at
// the schedule's own times, when the schedule's run already holds that workflow id. Pure: safe in workflow code.
import { durationMs } from '../contract/durations';

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const TUESDAY = 2;

/** minute hour day-of-month month day-of-week: the range of each and its names */
const CRON_FIELDS = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS, base: 1 },
  { min: 0, max: 7, names: DAYS, base: 0 },
] as const;
const CRON_ITEM = /^(?:\*|([A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?)(?:\/(\d+))?$/;

/** Whether `value` matches one cron field; undefined when the field cannot be read. */
function fieldMatches(text: string, field: (typeof CRON_FIELDS)[number], value: number): boolean | undefined {
  const number = (token: string): number | undefined => {
    if (/^\d+$/.test(token)) return Number(token);
    const i = 'names' in field ? (field.names as readonly string[]).indexOf(token.toUpperCase()) : -1;
    return i >= 0 && 'base' in field ? i + field.base : undefined;
  };
  let matched = false;
  for (const item of text.split(',')) {
    const m = CRON_ITEM.exec(item);
    if (!m) return undefined;
    const from = m[1] === undefined ? field.min : number(m[1]);
    const to = m[2] !== undefined ? number(m[2]) : m[1] === undefined || m[3] !== undefined ? field.max : from;
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (from === undefined || to === undefined || from < field.min || to > field.max || step < 1) return undefined;
    // Day of week 7 is Sunday, as 0 is.
    const candidates = field === CRON_FIELDS[4] && value === 0 ? [0, 7] : [value];
    if (candidates.some((v) => v >= from && v <= to && (v - from) % step === 0)) matched = true;
  }
  return matched;
}

function cronFiresAt(fields: string[], at: Date): boolean | undefined {
  const values = [at.getUTCMinutes(), at.getUTCHours(), at.getUTCDate(), at.getUTCMonth() + 1, at.getUTCDay()];
  let all = true;
  for (const [i, field] of CRON_FIELDS.entries()) {
    const m = fieldMatches(fields[i] ?? '', field, values[i] ?? -1);
    if (m === undefined) return undefined;
    all &&= m;
  }
  return all;
}

/**
 * Whether `atMs` is a time of the spec as the rehearsal schedule names it: `quarterly`, `monthly` (the first Tuesday
 * of the quarter's or every month, 10:00 UTC), `weekly` (Tuesdays, 10:00 UTC), a five-field cron spec in UTC (day of
 * month and day of week both matching, as Temporal reads them), or `every DURATION` (multiples of it since the Unix
 * epoch, as Temporal aligns intervals). Undefined when the spec is none of these. Never throws.
 */
export function specFiresAt(spec: unknown, atMs: number): boolean | undefined {
  if (typeof spec !== 'string' || spec.length > 200 || !Number.isFinite(atMs)) return undefined;
  const at = new Date(atMs);
  const text = spec.trim().replace(/\s+/g, ' ');
  const tuesdayTen = at.getUTCDay() === TUESDAY && at.getUTCHours() === 10 && atMs % 3_600_000 === 0;
  const firstWeek = at.getUTCDate() <= 7;
  switch (text.toLowerCase()) {
    case 'quarterly':
      return tuesdayTen && firstWeek && at.getUTCMonth() % 3 === 0;
    case 'monthly':
      return tuesdayTen && firstWeek;
    case 'weekly':
      return tuesdayTen;
  }
  if (text.startsWith('every ')) {
    let every: number;
    try {
      every = durationMs(text.slice('every '.length) as never);
    } catch {
      return undefined;
    }
    return Number.isFinite(every) && every >= 1000 ? atMs % every === 0 : undefined;
  }
  const fields = text.split(' ');
  if (fields.length !== 5) return undefined;
  return atMs % 60_000 === 0 ? cronFiresAt(fields, at) : false;
}
