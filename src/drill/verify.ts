/**
 * The drill's final state, checked against what ARM (the emulator) shows — not against what the runbook says
 * about itself: the group whole again, traffic back on the failed region, destructive calls exactly as the path
 * requires, the runbook completed, its history replaying against the code.
 */
import type { RunbookResult } from '../contract/runbook';
import type { Emulator } from '../emulator/index';
import type { DrillCheck } from './events';

/** Accepted mutating ARM calls of one operation (e.g. forceUnlink), on resources whose id contains `resource`. */
export function countCalls(emulator: Emulator, operation: string, resource = ''): number {
  return emulator
    .counters()
    .filter((c) => c.operation === operation && c.resourceId.toLowerCase().includes(resource.toLowerCase()))
    .reduce((n, c) => n + c.count, 0);
}

interface ProfileView {
  properties: { endpoints: { name: string; properties: { endpointStatus: string; endpointLocation?: string } }[] };
}

/** Traffic Manager endpoint name → endpointStatus, over every profile. */
export function endpointStatuses(emulator: Emulator): Record<string, string> {
  const profiles = emulator.state().trafficManagerProfiles as ProfileView[];
  return Object.fromEntries(
    profiles.flatMap((p) => p.properties.endpoints.map((e) => [e.name, e.properties.endpointStatus])),
  );
}

/** Member region → [listed region, link state][] as ARM shows it. */
export function links(emulator: Emulator, members: readonly string[]): Record<string, [string, string][]> {
  const { databases } = emulator.state();
  const inGroup = databases.filter((d) => members.includes(d.location));
  const regionOf = (id: string): string =>
    databases.find((d) => d.id.toLowerCase() === id.toLowerCase())?.location ?? id;
  return Object.fromEntries(
    inGroup.map((d) => [d.location, d.linkedDatabases.map((l): [string, string] => [regionOf(l.id), l.state]).sort()]),
  );
}

export interface FinalStateInput {
  emulator: Emulator;
  members: readonly string[];
  failedRegion: string;
  /** the Traffic Manager endpoint of the failed region */
  endpointName: string;
  /** whether the path force-unlinks the failed member (the long outage, approved); else no unlink at all */
  unlinkExpected: boolean;
  result?: RunbookResult;
}

/** The checks of the final state, each with what was seen. */
export function checkFinalState(input: FinalStateInput): DrillCheck[] {
  const { emulator, members, failedRegion, result } = input;
  const checks: DrillCheck[] = [];
  checks.push({
    check: 'outcome',
    ok: result?.outcome === 'completed',
    detail: result ? `${result.outcome}: ${result.summary}` : 'the runbook did not finish',
  });

  const expected = [...members].sort();
  const seen = links(emulator, members);
  const broken = members.filter((r) => {
    const listed = seen[r] ?? [];
    return (
      listed.length !== expected.length ||
      listed.some(([region, state], i) => region !== expected[i] || state !== 'Linked')
    );
  });
  const outage = emulator.state().regionsInOutage;
  checks.push({
    check: 'links',
    ok: broken.length === 0 && outage.length === 0,
    detail:
      broken.length === 0
        ? `every member (${members.join(', ')}) lists every other as Linked` +
          (outage.length ? `; but regions still in outage: ${outage.join(', ')}` : '')
        : broken
            .map((r) => `${r} lists ${(seen[r] ?? []).map(([o, s]) => `${o}:${s}`).join(', ') || 'nothing'}`)
            .join('; '),
  });

  const endpoint = endpointStatuses(emulator)[input.endpointName];
  checks.push({
    check: 'endpoint',
    ok: endpoint === 'Enabled',
    detail: `Traffic Manager endpoint ${input.endpointName} (${failedRegion}) is ${endpoint ?? 'missing'}`,
  });

  const unlinks = countCalls(emulator, 'forceUnlink');
  const wanted = input.unlinkExpected ? 1 : 0;
  checks.push({
    check: 'force-unlink',
    ok: unlinks === wanted,
    detail:
      `${unlinks} force-unlink call(s), expected ${wanted}` +
      (input.unlinkExpected ? '' : ' (the region came back without an unlink)'),
  });

  // Members whose access keys are Disabled are reached with Entra ID tokens: nobody asked ARM for their keys.
  const disabled = emulator
    .state()
    .databases.filter((d) => members.includes(d.location) && d.accessKeysAuthentication === 'Disabled')
    .map((d) => d.id.toLowerCase());
  const asked = emulator
    .listKeysCalls()
    .filter((c) => disabled.includes(c.resourceId.toLowerCase()))
    .reduce((n, c) => n + c.count, 0);
  checks.push({
    check: 'access-keys',
    ok: asked === 0,
    detail:
      `${asked} listKeys call(s) on the ${disabled.length} member(s) whose access keys are Disabled, expected 0` +
      (disabled.length > 0 ? ' (the data plane used Microsoft Entra ID)' : ''),
  });
  return checks;
}
