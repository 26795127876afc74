// The runbook's own metrics, emitted from the workflow through the SDK's workflow metric meter: the worker exports
// them with its runtime metrics (Prometheus when configured). The SDK drops them on replay, so each is counted once.
import { metricMeter } from '@temporalio/workflow';
import type { StepName } from '../../contract/names';
import type { RunbookActivities } from './activity-proxies';

interface MeteredGate {
  name: string;
  kind: 'approval' | 'intervention';
  step: StepName;
  requestedAt: string;
  outcome?: string;
  decidedAt?: string;
}

function seconds(fromIso: string, toIso?: string): number {
  const from = Date.parse(fromIso);
  const to = toIso ? Date.parse(toIso) : Date.now();
  return Number.isFinite(from) && Number.isFinite(to) ? Math.max(0, (to - from) / 1000) : 0;
}

/** Start of the incident → traffic rerouted, once per run that rerouted. */
export function recordRto(group: string, rtoMs: number): void {
  metricMeter
    .createHistogram('geofailover_rto_seconds', 'float', 's', 'incident start to traffic rerouted (RTO)')
    .record(Math.max(0, rtoMs / 1000), { group });
}

/** How long a gate waited for people, by gate and how it closed. */
export function recordGateWait(group: string, gate: MeteredGate): void {
  metricMeter
    .createHistogram('geofailover_gate_wait_seconds', 'float', 's', 'time a gate waited for people')
    .record(seconds(gate.requestedAt, gate.decidedAt), {
      group,
      gate: gate.name,
      kind: gate.kind,
      outcome: gate.outcome ?? 'open',
    });
}

/** An intervention gate opened: a step failed after its retries and waits for people. */
export function countIntervention(group: string, gate: MeteredGate): void {
  if (gate.kind !== 'intervention') return;
  metricMeter
    .createCounter('geofailover_interventions', 'interventions', 'steps that failed after retries and needed people')
    .add(1, { group, step: gate.step });
}

/** Counts each destructive call the runbook makes (force-unlink, rejoin, endpoint switch), by kind. */
export function countDestructiveCalls(acts: RunbookActivities, group: () => string): RunbookActivities {
  const counter = (): ReturnType<typeof metricMeter.createCounter> =>
    metricMeter.createCounter(
      'geofailover_destructive_calls',
      'calls',
      'destructive calls scheduled by the runbook (force-unlink, rejoin, endpoint status)',
    );
  const counted = <K extends 'forceUnlink' | 'rejoinMember' | 'setEndpointStatus'>(
    name: K,
    kind: string,
  ): RunbookActivities[K] =>
    ((...args: Parameters<RunbookActivities[K]>) => {
      counter().add(1, { group: group(), kind });
      return (acts[name] as (...a: Parameters<RunbookActivities[K]>) => ReturnType<RunbookActivities[K]>)(...args);
    }) as RunbookActivities[K];
  return {
    ...acts,
    forceUnlink: counted('forceUnlink', 'force-unlink'),
    rejoinMember: counted('rejoinMember', 'rejoin'),
    setEndpointStatus: counted('setEndpointStatus', 'endpoint-status'),
  };
}
