/**
 * Where command output goes. Results go to stdout: text, or under `--json` one JSON document (streams
 * such as `--watch` / `--wait`: one JSON object per line). Progress and live redraws go to stderr, only
 * when a human watches a terminal: never under `--json`, never with `CI` set, never into a pipe.
 */
import type { CommandIo } from '../contract/command-io';
import { formatErrorText, type ErrorReport } from './errors';

export interface OutputOptions {
  json: boolean;
  /** stderr is a TTY, not under --json, CI unset: progress and redraws on stderr */
  live: boolean;
  /** stdout is a TTY too: a live redraw replaces the per-event lines */
  interactive?: boolean;
  columns?: number;
}

export class Output {
  readonly json: boolean;
  readonly live: boolean;
  readonly interactive: boolean;
  private readonly columns: number;
  private liveLines = 0;

  constructor(
    private readonly io: CommandIo,
    options: OutputOptions,
  ) {
    this.json = options.json;
    this.live = options.live;
    this.interactive = options.live && options.interactive === true;
    this.columns = options.columns && options.columns > 20 ? options.columns : 120;
  }

  /** The command's result: one JSON document under --json, else the text. */
  result(value: unknown, text: string): void {
    this.clearLive();
    if (this.json) this.io.stdout(`${JSON.stringify(value, null, 2)}\n`);
    else this.io.stdout(text.endsWith('\n') || text === '' ? text : `${text}\n`);
  }

  /** One event of a stream: one compact JSON line under --json, else one text line. */
  event(value: unknown, text: string): void {
    if (this.json) this.io.stdout(`${JSON.stringify(value)}\n`);
    else if (!this.interactive) this.io.stdout(`${text}\n`);
  }

  /** A note for a human (stderr, TTY only). */
  progress(text: string): void {
    if (!this.live) return;
    this.clearLive();
    this.io.stderr(`${text}\n`);
  }

  /** Something a human must see even in a pipe (stderr; kept off stdout so --json stays parseable). */
  warn(text: string): void {
    this.clearLive();
    this.io.stderr(`warning: ${text}\n`);
  }

  /** Redraws a block of lines in place on stderr (interactive terminals only); the result replaces it. */
  redraw(lines: readonly string[]): void {
    if (!this.interactive) return;
    const width = this.columns - 1;
    const fitted = lines.map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l));
    // Cursor to the start of the previous block, clear to the end of the screen, draw again.
    const up = this.liveLines > 0 ? `\x1b[${this.liveLines}F\x1b[0J` : '';
    this.io.stderr(`${up}${fitted.join('\n')}\n`);
    this.liveLines = fitted.length;
  }

  private clearLive(): void {
    if (this.liveLines === 0) return;
    this.io.stderr(`\x1b[${this.liveLines}F\x1b[0J`);
    this.liveLines = 0;
  }

  /** An error: its text on stderr and, under --json, its document on stdout. */
  error(report: ErrorReport): void {
    this.clearLive();
    this.io.stderr(formatErrorText(report));
    if (this.json) this.io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  }
}

/** A plain text table: a header row, then rows, columns padded to their widest cell. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

export { formatDuration } from '../contract/durations';
