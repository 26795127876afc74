/**
 * Long-running operations as ARM and core-lro expect them (docs/ARCHITECTURE.md): the initial 201/202
 * carries `Azure-AsyncOperation` (the operationsStatus URL), `Location` (the operationResults URL)
 * and `Retry-After`; the status resource always answers 200 with `{ id, name, status, startTime,
 * endTime?, percentComplete?, error? }` and `status` InProgress → Succeeded | Failed | Canceled.
 *
 * An operation's effects run once, when its time is up and no fault fails it; its status turns
 * Succeeded only after they have been applied.
 */
import { randomUUID } from 'node:crypto';
import type { LroOperationName } from './operations';

export type OperationStatusValue = 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';

export interface OperationError {
  code: string;
  message: string;
}

/** What the operation's owner does when it ends. Each is called at most once per operation. */
export interface OperationEffects {
  /** Applies the effects. Throwing fails the operation with InternalServerError. */
  succeed(): Promise<void>;
  /** The operation ended Failed or Canceled (injected fault, or `succeed` threw): nothing was applied. */
  fail(status: 'Failed' | 'Canceled', error?: OperationError): void;
}

/** What `Location` answers once the operation succeeded. */
export type OperationResult = { kind: 'none' } | { kind: 'resource'; render: () => unknown };

export interface OperationRecord {
  id: string;
  name: LroOperationName;
  resourceId: string;
  subscriptionId: string;
  location: string;
  apiVersion: string;
  status: OperationStatusValue;
  startTime: Date;
  endTime?: Date;
  durationMs: number;
  error?: OperationError;
  result: OperationResult;
  /**
   * Observed quirks (Azure SDK for .NET recordings): the status URL names the location by its display name
   * (`locations/West%20US/operationsStatus/…`), times carry a non-UTC offset (`+05:30`) and `endTime` is
   * present while the operation is still InProgress.
   */
  statusQuirks?: boolean;
}

export interface StartOperation {
  name: LroOperationName;
  resourceId: string;
  subscriptionId: string;
  location: string;
  apiVersion: string;
  durationMs: number;
  /** An injected outcome (LRO fault); undefined means the operation succeeds. */
  outcome?: { fail?: OperationError; cancel?: boolean };
  result?: OperationResult;
  effects: OperationEffects;
  /** answer its status with the observed quirks (see OperationRecord.statusQuirks) */
  statusQuirks?: boolean;
}

/** Region names as they appear in operation URLs: lower case, no spaces ("West US" → "westus"). */
export function normalizeLocation(location: string): string {
  return location.replace(/\s+/g, '').toLowerCase();
}

const DISPLAY_NAMES: Record<string, string> = {
  eastus: 'East US',
  eastus2: 'East US 2',
  westus: 'West US',
  westus2: 'West US 2',
  westus3: 'West US 3',
  centralus: 'Central US',
  northeurope: 'North Europe',
  westeurope: 'West Europe',
  uksouth: 'UK South',
  southeastasia: 'Southeast Asia',
  eastasia: 'East Asia',
  japaneast: 'Japan East',
  australiaeast: 'Australia East',
};

/** A region's display name ("westus" → "West US"); the name itself when not known. */
export function locationDisplayName(location: string): string {
  return DISPLAY_NAMES[normalizeLocation(location)] ?? location;
}

/** The location segment of an operation's URLs: the name, or (quirk) the display name, escaped. */
function locationSegment(op: Pick<OperationRecord, 'location' | 'statusQuirks'>): string {
  return op.statusQuirks ? encodeURIComponent(locationDisplayName(op.location)) : normalizeLocation(op.location);
}

export function operationStatusPath(
  op: Pick<OperationRecord, 'subscriptionId' | 'location' | 'id' | 'statusQuirks'>,
): string {
  return `/subscriptions/${op.subscriptionId}/providers/Microsoft.Cache/locations/${locationSegment(op)}/operationsStatus/${op.id}`;
}

/** ISO 8601 with a +05:30 offset, as observed in Azure's answers (the same instant). */
export function withIndiaOffset(date: Date): string {
  const shifted = new Date(date.getTime() + 330 * 60_000).toISOString();
  return `${shifted.slice(0, -1)}+05:30`;
}

export function operationResultPath(
  op: Pick<OperationRecord, 'subscriptionId' | 'location' | 'id' | 'statusQuirks'>,
): string {
  return `/subscriptions/${op.subscriptionId}/providers/Microsoft.Cache/locations/${locationSegment(op)}/operationResults/${op.id}`;
}

/** Headers of an initial 201/202 response. `Location` is left out for PUT, as the spec does. */
export function lroHeaders(
  baseUrl: string,
  op: OperationRecord,
  options: { retryAfterSeconds: number; location: boolean },
): Record<string, string> {
  const q = `?api-version=${encodeURIComponent(op.apiVersion)}`;
  const headers: Record<string, string> = {
    'Azure-AsyncOperation': `${baseUrl}${operationStatusPath(op)}${q}`,
    'Retry-After': String(options.retryAfterSeconds),
  };
  if (options.location) headers.Location = `${baseUrl}${operationResultPath(op)}${q}`;
  return headers;
}

/** The OperationStatus body; `error` is flat `{ code, message }`, which is what core-lro reads. */
export function operationStatusBody(op: OperationRecord, now = Date.now()): Record<string, unknown> {
  const time = (d: Date): string => (op.statusQuirks ? withIndiaOffset(d) : d.toISOString());
  const body: Record<string, unknown> = {
    id: operationStatusPath(op),
    name: op.id,
    status: op.status,
    startTime: time(op.startTime),
  };
  if (op.endTime) body.endTime = time(op.endTime);
  else if (op.statusQuirks) body.endTime = time(new Date(op.startTime.getTime() + op.durationMs));
  if (op.status === 'InProgress') {
    const elapsed = now - op.startTime.getTime();
    body.percentComplete = op.durationMs <= 0 ? 99 : Math.min(99, Math.floor((elapsed / op.durationMs) * 100));
  } else if (op.status === 'Succeeded') {
    body.percentComplete = 100;
  }
  if (op.error) body.error = { ...op.error };
  return body;
}

export class Operations {
  private readonly records = new Map<string, OperationRecord>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly log: (line: string) => void = () => {}) {}

  start(input: StartOperation): OperationRecord {
    if (this.closed) throw new Error('the emulator is closing');
    const op: OperationRecord = {
      id: randomUUID(),
      name: input.name,
      resourceId: input.resourceId,
      subscriptionId: input.subscriptionId,
      location: input.location,
      apiVersion: input.apiVersion,
      status: 'InProgress',
      startTime: new Date(),
      durationMs: Math.max(0, input.durationMs),
      result: input.result ?? { kind: 'none' },
      ...(input.statusQuirks ? { statusQuirks: true } : {}),
    };
    this.records.set(op.id, op);
    const timer = setTimeout(() => {
      this.timers.delete(op.id);
      const done = this.finish(op, input).finally(() => this.running.delete(done));
      this.running.add(done);
    }, op.durationMs);
    this.timers.set(op.id, timer);
    return op;
  }

  get(id: string): OperationRecord | undefined {
    return this.records.get(id.toLowerCase()) ?? this.records.get(id);
  }

  list(): OperationRecord[] {
    return [...this.records.values()];
  }

  /** Stops pending timers and waits for effects already being applied. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }

  private async finish(op: OperationRecord, input: StartOperation): Promise<void> {
    if (this.closed || op.status !== 'InProgress') return;
    const end = (status: OperationStatusValue, error?: OperationError): void => {
      op.status = status;
      op.endTime = new Date();
      if (error) op.error = error;
      this.log(`operation ${op.name} ${op.id} on ${op.resourceId}: ${status}${error ? ` (${error.code})` : ''}`);
    };
    const failWith = (status: 'Failed' | 'Canceled', error?: OperationError): void => {
      try {
        input.effects.fail(status, error);
      } catch (e) {
        this.log(`operation ${op.id}: failure handler threw: ${(e as Error).stack ?? String(e)}`);
      }
      end(status, error);
    };
    if (input.outcome?.cancel) {
      failWith('Canceled', { code: 'OperationCanceled', message: 'The operation was canceled (emulated fault).' });
      return;
    }
    if (input.outcome?.fail) {
      failWith('Failed', input.outcome.fail);
      return;
    }
    try {
      await input.effects.succeed();
    } catch (e) {
      this.log(`operation ${op.name} ${op.id} failed while applying its effects: ${(e as Error).stack ?? String(e)}`);
      failWith('Failed', {
        code: 'InternalServerError',
        message: `The operation failed while applying its effects: ${(e as Error).message}`,
      });
      return;
    }
    end('Succeeded');
  }
}
