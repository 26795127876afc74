// Traffic Manager endpoints shared between groups (the same profile and endpoint in two groups of the worker's
// configuration): an open incident HOLDS the endpoint of its failed region from its traffic-reroute on (it needs it
// disabled) until its own traffic-failback starts, or until it ends. Another group's failback must not enable the
// endpoint while any incident holds it. Who holds it is read from Temporal: the open failoverRunbook runs of the
// sharing groups (visibility: WorkflowType, ExecutionStatus, the FailoverGroup search attribute), and each one's
// `status` query.
import { Context, log } from '@temporalio/activity';
import { sameResourceId } from '../azure/resource-ids';
import { statusQuery } from '../contract/messages';
import { SEARCH_ATTRIBUTES, WORKFLOW_TYPES } from '../contract/names';
import type { EndpointRef } from '../contract/runbook';
import type { RunbookStatus } from '../contract/types';
import { lookupPolicy, type PolicyDependencies } from './policy';
import type { EndpointHolder } from './types';

/** An open runbook run of a group, with its `status` (or why it could not be read). */
export interface OpenRunbook {
  workflowId: string;
  runId: string;
  status?: RunbookStatus;
  /** the status query failed and the run is still open: its hold cannot be ruled out */
  error?: string;
}

/** The open failoverRunbook runs of one group. */
export type OpenRunbookSource = (group: string) => Promise<OpenRunbook[]>;

export interface EndpointLeaseDependencies extends PolicyDependencies {
  /** every group of the worker's configuration: the ones that may share an endpoint */
  groupNames?: readonly string[];
  /** how open runs are found (default: the activity's Temporal client); tests replace it */
  openRunbooks?: OpenRunbookSource;
}

/** A group that has the same endpoint of the same profile, and the regions whose endpoint it is. */
export interface SharingGroup {
  group: string;
  regions: string[];
}

const sameName = (a: string | undefined, b: string | undefined): boolean =>
  (a ?? '').toLowerCase() === (b ?? '').toLowerCase();

/** The other groups of the configuration whose Traffic Manager endpoint is this one. */
export function sharingGroups(
  deps: EndpointLeaseDependencies,
  group: string,
  profileId: string,
  endpoint: EndpointRef,
): SharingGroup[] {
  return (deps.groupNames ?? []).flatMap((name) => {
    if (name === group) return [];
    const lookup = lookupPolicy(deps, name);
    if (!lookup.found) return [];
    const tm = lookup.policy.group.trafficManager;
    if (!sameResourceId(tm.profileId, profileId)) return [];
    const regions = Object.entries(tm.endpoints)
      .filter(([, e]) => sameName(e.name, endpoint.name) && sameName(e.type, endpoint.type))
      .map(([region]) => region);
    return regions.length > 0 ? [{ group: name, regions }] : [];
  });
}

/**
 * Whether a run holds the endpoint of `regions`: its failed region is one of them, its traffic-reroute succeeded
 * (or is under way: running, or failed at its intervention gate), and its traffic-failback has not started.
 */
export function holdsEndpoint(status: RunbookStatus, regions: readonly string[]): boolean {
  if (!regions.some((r) => sameName(r, status.failedRegion))) return false;
  const of = (name: string): string | undefined => status.steps?.find((s) => s.step === name)?.status;
  const reroute = of('traffic-reroute');
  return (
    (reroute === 'succeeded' || reroute === 'running' || reroute === 'failed') && of('traffic-failback') === 'pending'
  );
}

/** The open incidents of other groups that hold the endpoint now; [] when no group shares it. */
export async function endpointHolders(
  deps: EndpointLeaseDependencies,
  input: { group: string; profileId: string; endpoint: EndpointRef },
): Promise<EndpointHolder[]> {
  const sharing = sharingGroups(deps, input.group, input.profileId, input.endpoint);
  if (sharing.length === 0) return [];
  const source = deps.openRunbooks ?? temporalOpenRunbooks;
  const holders: EndpointHolder[] = [];
  for (const { group, regions } of sharing) {
    for (const run of await source(group)) {
      const { workflowId, runId, status, error } = run;
      if (error !== undefined || !status) {
        // Not knowing is not a release: the failback waits, naming the run and why.
        holders.push({ workflowId, runId, group, note: `its status could not be read: ${error ?? 'no status'}` });
        continue;
      }
      if (!holdsEndpoint(status, regions)) continue;
      const reroute = status.steps.find((s) => s.step === 'traffic-reroute');
      holders.push({
        workflowId,
        runId,
        group,
        region: status.failedRegion,
        phase: status.phase,
        ...(reroute?.endedAt !== undefined && reroute.status === 'succeeded' ? { since: reroute.endedAt } : {}),
      });
    }
  }
  if (holders.length > 0) {
    log.info(`endpoint ${input.endpoint.name} is held by ${holders.map((h) => h.workflowId).join(', ')}`);
  }
  return holders;
}

/** A visibility query string literal; undefined for a value that would need escaping (then filtered here). */
function literal(value: string): string | undefined {
  return /^[\w.:/-]+$/.test(value) ? `'${value}'` : undefined;
}

/** The open failoverRunbook runs of `group`, from the Temporal server the worker is connected to. */
export const temporalOpenRunbooks: OpenRunbookSource = async (group) => {
  const { client } = Context.current();
  const groupValue = literal(group);
  const query =
    `WorkflowType = '${WORKFLOW_TYPES.failoverRunbook}' AND ExecutionStatus = 'Running'` +
    (groupValue ? ` AND ${SEARCH_ATTRIBUTES.group.name} = ${groupValue}` : '');
  const runs: OpenRunbook[] = [];
  for await (const execution of client.workflow.list({ query })) {
    if (!groupValue) {
      const attribute = execution.searchAttributes?.[SEARCH_ATTRIBUTES.group.name];
      if (!Array.isArray(attribute) || attribute[0] !== group) continue;
    }
    const handle = client.workflow.getHandle(execution.workflowId, execution.runId);
    try {
      runs.push({ workflowId: execution.workflowId, runId: execution.runId, status: await handle.query(statusQuery) });
    } catch (e) {
      // A run that closed in the meantime holds nothing.
      const still = await handle.describe().then(
        (d) => d.status.name === 'RUNNING',
        () => true,
      );
      if (still) {
        runs.push({
          workflowId: execution.workflowId,
          runId: execution.runId,
          error: ((e as Error)?.message ?? String(e)).slice(0, 300),
        });
      }
    }
  }
  return runs;
};
