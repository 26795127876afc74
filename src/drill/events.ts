/**
 * What the drill tells its watcher, as it happens: human lines on stdout (one per step start and end, one per
 * drill action), or with `--json` one JSON object per line (NDJSON), the last one the summary. Warnings go to
 * stderr in both modes.
 */
import path from 'node:path';
import type { StepName, StepStatus } from '../contract/names';
import type { CommandIo } from '../contract/command-io';
import type { EvacuationDrillSummary } from './evacuation-summary';

/** Something the drill itself did or saw, beyond the runbook's steps. */
export type DrillAction =
  | 'outage-injected'
  | 'runbook-started'
  | 'traffic-moved'
  | 'memory'
  | 'unlink-trigger'
  | 'approval-refused'
  | 'approval-accepted'
  | 'approval-needed'
  | 'force-unlinked'
  | 'region-restored'
  | 'recovery-signalled'
  | 'failback'
  // --rehearsal
  | 'holding'
  | 'hold-ended'
  // --evacuate
  | 'fault-injected'
  | 'evacuation-started'
  | 'evacuation-progress'
  | 'batch-approved'
  | 'intervention'
  | 'fault-cleared'
  | 'intervention-resolved';

export interface DrillCheck {
  /** outcome, links, endpoint, force-unlink, replay */
  check: string;
  ok: boolean;
  detail: string;
}

/** The last NDJSON line, and what the text mode's last lines say. */
export interface DrillSummary {
  ok: boolean;
  exitCode: number;
  path: 'long-outage' | 'short-outage' | 'evacuation' | 'rehearsal';
  /** how the DR evidence counts the run: an incident on an injected outage (drill), or a rehearsal */
  mode?: 'drill' | 'rehearsal';
  group: string;
  failedRegion: string;
  workflowId?: string;
  runId?: string;
  outcome?: string;
  /** start → traffic rerouted, as the runbook measured it */
  rtoMs?: number;
  verdict?: 'verified' | 'diverged';
  evidenceDir?: string;
  evidenceBytes?: number;
  forceUnlinks?: number;
  checks: DrillCheck[];
  /** the checks that failed, or why the drill stopped */
  failed: string[];
  interrupted?: NodeJS.Signals;
  error?: string;
  wallMs: number;
  /** kept when the drill failed: the configuration and the workers' log */
  workDir?: string;
  /** the workers' Prometheus endpoint and the runbook's samples it showed after the run */
  metrics?: { url: string; runbook: string[] };
  /** `--evacuate N`: the evacuation, each group's RTO and outcome, the count of groups per outcome */
  evacuation?: EvacuationDrillSummary;
}

export type DrillEventBody =
  | { type: 'log'; message: string }
  | { type: 'metrics'; url: string; lines: number }
  | { type: 'temporal'; address: string; namespace: string; ownServer: boolean; uiUrl?: string; pid?: number }
  | { type: 'emulator'; arm: string; control: string; scenario: string; regions: string[] }
  | { type: 'config'; file: string; group: string; approvers: string[]; quorum: Record<string, number> }
  | { type: 'workers'; taskQueue: string; probeTaskQueues: string[] }
  | { type: 'started'; pid: number; pids: { drill: number; temporal?: number }; workDir: string; logFile: string }
  | ({ type: 'action'; action: DrillAction } & Record<string, unknown>)
  | {
      type: 'step';
      step: StepName;
      status: StepStatus;
      edge: 'start' | 'end';
      attempts: number;
      durationMs?: number;
      summary: string;
    }
  | { type: 'interactive'; gate: string; commands: string[] }
  | { type: 'evidence'; dir: string; files: { name: string; bytes: number }[]; totalBytes: number; verdict: string }
  | ({ type: 'check' } & DrillCheck)
  | ({ type: 'summary' } & DrillSummary);

export type DrillEvent = DrillEventBody & { at: string; t: number };

/** Writes drill events: text lines `[  12.3s] ...` on stdout, or NDJSON with `--json`. */
export class DrillReporter {
  private readonly startedAt = performance.now();

  constructor(
    private readonly io: CommandIo,
    readonly json: boolean,
  ) {}

  /** Milliseconds since the drill started. */
  elapsedMs(): number {
    return Math.round(performance.now() - this.startedAt);
  }

  /** One event: its JSON line under --json, else `text` (nothing when undefined). */
  emit(event: DrillEventBody, text?: string): void {
    const t = this.elapsedMs();
    if (this.json) {
      this.io.stdout(`${JSON.stringify({ ...event, at: new Date().toISOString(), t })}\n`);
    } else if (text !== undefined) {
      const stamp = `[${(t / 1000).toFixed(1).padStart(6)}s]`;
      this.io.stdout(
        text
          .split('\n')
          .map((line, i) => `${i === 0 ? stamp : ' '.repeat(stamp.length)} ${line}`)
          .join('\n') + '\n',
      );
    }
  }

  /** A progress line: text mode prints it, --json emits it as a `log` event. */
  log(message: string): void {
    this.emit({ type: 'log', message }, message);
  }

  /** A drill action: one line of text, or an `action` event with its details. */
  action(action: DrillAction, text: string, details: Record<string, unknown> = {}): void {
    this.emit({ type: 'action', action, text, ...details }, `• ${text}`);
  }

  /** Plain text for a human, never in --json (the summary block at the end). */
  text(lines: string): void {
    if (!this.json) this.io.stdout(lines.endsWith('\n') ? lines : `${lines}\n`);
  }

  /** Something that must be seen even in a pipe: stderr in both modes. */
  warn(text: string): void {
    this.io.stderr(`warning: ${text}\n`);
  }
}

/** 1234 → '1.2 kB' */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** A path as a person types it: relative to the current directory when inside it. */
export function shownPath(dir: string): string {
  const relative = path.relative(process.cwd(), dir);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : dir;
}
