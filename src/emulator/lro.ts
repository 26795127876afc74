/**
 * Long-running operations as ARM and core-lro expect them (azure/README.md §3): the initial 201/202
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
}

/** Region names as they appear in operation URLs: lower case, no spaces ("West US" → "westus"). */
export function normalizeLocation(location: string): string {
  return location.replace(/\s+/g, '').toLowerCase();
}

export function operationStatusPath(op: Pick<OperationRecord, 'subscriptionId' | 'location' | 'id'>): string {
  return `/subscriptions/${op.subscriptionId}/providers/Microsoft.Cache/locations/${normalizeLocation(op.location)}/operationsStatus/${op.id}`;
}

export function operationResultPath(op: Pick<OperationRecord, 'subscriptionId' | 'location' | 'id'>): string {
  return `/subscriptions/${op.subscriptionId}/providers/Microsoft.Cache/locations/${normalizeLocation(op.location)}/operationResults/${op.id}`;
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
  const body: Record<string, unknown> = {
    id: operationStatusPath(op),
    name: op.id,
    status: op.status,
    startTime: op.startTime.toISOString(),
  };
  if (op.endTime) body.endTime = op.endTime.toISOString();
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
