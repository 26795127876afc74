import type { Database } from '@azure/arm-redisenterprisecache';
import { activityInfo, ApplicationFailure, Context, log } from '@temporalio/activity';
import { type ArmClients, armClientsFor } from '../azure/clients';
import { classifyAzureError } from '../azure/errors';
import { beginForceLinkToReplicationGroup } from '../azure/operation-specs';
import { rejoinCheck, type MemberView, type RejoinCheck } from '../azure/rejoin-check';
import { sameLinkedId, sameResourceId, type DatabaseResourceId } from '../azure/resource-ids';
import { FAILURE_TYPES } from '../contract/failures';
import { azureFailure } from './azure-failure';
import { databaseIdOf } from './database-access';
import {
  checkpointFor,
  DEFAULT_REREAD_INTERVAL_MS,
  laterAttempt,
  operationIdOf,
  pollUntil,
  waitForPoller,
  waitOutThrottling,
  type LroCheckpoint,
} from './lro-wait';
import { requireAuthorization, type PolicyDependencies } from './policy';
import type { GeoReplicationActivities } from './types';

export interface GeoReplicationDependencies extends PolicyDependencies {
  arm: ArmClients;
  /**
   * After a force-unlink succeeded, how long the survivors may keep listing the member before verification fails;
   * default 5 minutes. (A rejoin's links are verified by the rejoin step, within the group's resyncTimeout.)
   */
  verifyTimeoutMs?: number;
  /** How long one ARM call may stay throttled (429) before the activity fails; default 10 minutes. */
  throttleWaitMs?: number;
}

// Azure can report a force-unlink Succeeded while a survivor still lists the member; that has been seen to last
// minutes (an Azure SDK test waits up to 5), so verification waits as long before it calls the step failed.
const DEFAULT_VERIFY_TIMEOUT_MS = 5 * 60_000;

/** States of a database while an operation changes it. */
const BUSY_STATES = new Set(['creating', 'updating', 'deleting']);

/** The short name of a database for messages: its cluster (one database per cluster on Managed Redis). */
function shortName(databaseId: string): string {
  return databaseId.match(/redisEnterprise\/([^/]+)/i)?.[1] ?? databaseId;
}

function uniqueIds(ids: readonly string[]): string[] {
  const out: string[] = [];
  for (const id of ids) if (!out.some((x) => sameResourceId(x, id))) out.push(id);
  return out;
}

/** How `db` lists `id`: Azure compares linked ids case-sensitively (see sameLinkedId). */
function linkState(db: Database | undefined, id: string): string | undefined {
  return db?.geoReplication?.linkedDatabases?.find((l) => l.id !== undefined && sameLinkedId(l.id, id))?.state;
}

const isBusy = (db: Database | undefined): boolean => BUSY_STATES.has((db?.provisioningState ?? '').toLowerCase());

function operationFailed(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: FAILURE_TYPES.azureOperationFailed, nonRetryable: true });
}

function verificationFailed(message: string, details: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    message,
    type: FAILURE_TYPES.verificationFailed,
    nonRetryable: true,
    details: [details],
  });
}

/**
 * force-unlink and rejoin. Both are destructive, so each re-reads the group first and skips what is already done,
 * resumes (from its heartbeat) an operation an earlier attempt started instead of starting another, and waits for
 * an operation it finds in flight rather than calling again.
 */
export function createGeoReplicationActivities(deps: GeoReplicationDependencies): GeoReplicationActivities {
  /** The Redis client of the subscription `databaseId` is in (a group may span subscriptions). */
  const redisFor = (databaseId: string): ArmClients['redis'] => armClientsFor(deps.arm, databaseId).redis;
  const verifyTimeoutMs = deps.verifyTimeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS;
  const abort = (): { abortSignal: AbortSignal } => ({ abortSignal: Context.current().cancellationSignal });

  /** One database; `undefined` when it does not exist (404) and `allowMissing`. */
  async function readDatabase(databaseId: string, allowMissing = false): Promise<Database | undefined> {
    const id = databaseIdOf(databaseId, 'geo-replication');
    try {
      return await waitOutThrottling(
        () => redisFor(databaseId).databases.get(id.resourceGroupName, id.clusterName, id.databaseName, abort()),
        `reading ${shortName(databaseId)}`,
        deps.throttleWaitMs,
      );
    } catch (e) {
      if (allowMissing && classifyAzureError(e).type === FAILURE_TYPES.azureNotFound) return undefined;
      throw azureFailure(e, `reading ${databaseId}`);
    }
  }

  const readAll = (ids: readonly string[], missingOk?: string): Promise<(Database | undefined)[]> =>
    Promise.all(ids.map((id) => readDatabase(id, missingOk !== undefined && sameResourceId(id, missingOk))));

  /** Re-reads until `check` passes or the verification window ends; then throws VerificationFailed. */
  async function verifyEventually(
    what: string,
    intervalMs: number,
    details: unknown,
    check: () => Promise<string[]>,
  ): Promise<void> {
    const deadline = Date.now() + verifyTimeoutMs;
    let problems: string[] = [];
    await pollUntil(
      async () => {
        problems = await check();
        return problems.length === 0 || Date.now() >= deadline;
      },
      intervalMs,
      details,
    );
    if (problems.length > 0) {
      throw verificationFailed(`${what}: ${problems.join('; ')}`, { problems });
    }
  }

  // ---- force-unlink ---------------------------------------------------------------------------

  /** Which survivors still list the failed member, and in which link state. */
  async function survivorsListing(
    survivors: readonly string[],
    failed: string,
  ): Promise<{ survivor: string; state: string }[]> {
    const views = await readAll(survivors);
    return survivors.flatMap((survivor, i) => {
      const state = linkState(views[i], failed);
      return state === undefined ? [] : [{ survivor, state }];
    });
  }

  return {
    async forceUnlink(input) {
      const failed = input.failedDatabaseId;
      await requireAuthorization(deps, input, `force-unlink of ${shortName(String(failed))}`, {
        target: failed,
        gate: 'approval-unlink',
      });
      const calledOn = input.survivorDatabaseId;
      databaseIdOf(failed, 'force-unlink: the failed member');
      const target: DatabaseResourceId = databaseIdOf(calledOn, 'force-unlink: the survivor to call it on');
      if (sameResourceId(failed, calledOn)) {
        throw ApplicationFailure.nonRetryable(
          `force-unlink: the survivor to call it on cannot be the failed member itself (${failed})`,
          FAILURE_TYPES.invalidInput,
        );
      }
      const survivors = uniqueIds([calledOn, ...input.survivorDatabaseIds]).filter((id) => !sameResourceId(id, failed));
      for (const s of survivors) databaseIdOf(s, 'force-unlink: a survivor');
      const interval = input.pollIntervalMs ?? DEFAULT_REREAD_INTERVAL_MS;
      const lroOptions = input.pollIntervalMs !== undefined ? { updateIntervalInMs: input.pollIntervalMs } : {};
      const earlier = checkpointFor(activityInfo().heartbeatDetails, 'forceUnlink', failed);
      // The last checkpoint heartbeated; verification keeps heartbeating it, so a retry still knows the operation.
      let last: LroCheckpoint | undefined;
      const checkpointOn =
        (on: string) =>
        (pollerState: string): LroCheckpoint =>
          (last = {
            operation: 'forceUnlink',
            calledOn: on,
            subject: failed,
            operationId: operationIdOf(pollerState),
            pollerState,
          });
      const verify = (details: unknown): Promise<void> =>
        verifyEventually(`force-unlink of ${shortName(failed)} did not take effect`, interval, details, async () =>
          (await survivorsListing(survivors, failed)).map(
            (l) => `${shortName(l.survivor)} still lists it (${l.state})`,
          ),
        );

      // 1. Re-read first: a member nobody lists any more needs nothing (done by hand, or by an earlier attempt).
      let listing = await survivorsListing(survivors, failed);
      if (listing.length === 0) {
        if (earlier) {
          log.info(`force-unlink of ${shortName(failed)}: the operation of an earlier attempt completed`);
          return { skipped: false, calledOn: earlier.calledOn, operationId: earlier.operationId, resumed: true };
        }
        log.info(`force-unlink of ${shortName(failed)}: no survivor lists it; nothing to do`);
        return { skipped: true, ...laterAttempt() };
      }

      // 2. An earlier attempt of ours started the operation: resume polling it, never call again.
      if (earlier) {
        const resumeTarget = databaseIdOf(earlier.calledOn, 'force-unlink: the checkpoint');
        let resumed = false;
        try {
          const poller = await redisFor(earlier.calledOn).databases.beginForceUnlink(
            resumeTarget.resourceGroupName,
            resumeTarget.clusterName,
            resumeTarget.databaseName,
            { ids: [failed] },
            { ...lroOptions, ...abort(), resumeFrom: earlier.pollerState },
          );
          resumed = true;
          await waitForPoller(poller, checkpointOn(earlier.calledOn));
        } catch (e) {
          if (Context.current().cancellationSignal.aborted) throw e;
          // The status resource of that operation is gone: fall back to what the group shows (step 3).
          if (resumed || classifyAzureError(e).type !== FAILURE_TYPES.azureNotFound) {
            throw azureFailure(e, `force-unlink of ${shortName(failed)} on ${shortName(earlier.calledOn)}`);
          }
          log.warn(`force-unlink: cannot resume operation ${earlier.operationId}: ${(e as Error).message}`);
        }
        if (resumed) {
          await verify(last ?? earlier);
          log.info(`force-unlink of ${shortName(failed)}: resumed operation ${earlier.operationId} completed`);
          return { skipped: false, calledOn: earlier.calledOn, operationId: earlier.operationId, resumed: true };
        }
      }

      // 3. An unlink in flight whose checkpoint was lost (crash before the first heartbeat): wait for it.
      if (listing.some((l) => l.state === 'Unlinking')) {
        log.info(
          `force-unlink of ${shortName(failed)} is already in progress; waiting for it instead of calling again`,
        );
        await pollUntil(
          async () => {
            listing = await survivorsListing(survivors, failed);
            return !listing.some((l) => l.state === 'Unlinking');
          },
          interval,
          { waitingFor: 'force-unlink in progress', subject: failed },
        );
        if (listing.length === 0) return { skipped: true };
        throw operationFailed(
          `a force-unlink of ${shortName(failed)} that was in progress ended without effect: ` +
            listing.map((l) => `${shortName(l.survivor)} lists it as ${l.state}`).join('; ') +
            '. Retry at the intervention gate to call it again.',
        );
      }

      // 4. Act, once.
      let operationId: string | undefined;
      try {
        // One id per call (Azure's observed behaviour); a 429 is waited out, never a second operation.
        const poller = await waitOutThrottling(
          () =>
            redisFor(calledOn).databases.beginForceUnlink(
              target.resourceGroupName,
              target.clusterName,
              target.databaseName,
              { ids: [failed] },
              { ...lroOptions, ...abort() },
            ),
          `force-unlink of ${shortName(failed)} on ${shortName(calledOn)}`,
          deps.throttleWaitMs,
        );
        operationId = operationIdOf(poller.toString());
        log.info(`force-unlink of ${shortName(failed)} called on ${shortName(calledOn)}`, { operationId });
        await waitForPoller(poller, checkpointOn(calledOn));
      } catch (e) {
        if (Context.current().cancellationSignal.aborted) throw e;
        throw azureFailure(e, `force-unlink of ${shortName(failed)} on ${shortName(calledOn)}`);
      }

      // 5. Verify.
      await verify(last);
      return { skipped: false, calledOn, ...(operationId ? { operationId } : {}) };
    },

    // ---- rejoin ---------------------------------------------------------------------------------

    async rejoinMember(input) {
      const { databaseId, groupNickname, method } = input;
      await requireAuthorization(deps, input, `rejoin of ${shortName(String(databaseId))}`, {
        target: databaseId,
        gate: 'approval-rejoin',
      });
      const target = databaseIdOf(databaseId, 'rejoin: the rejoining database');
      const others = uniqueIds(input.memberDatabaseIds).filter((id) => !sameResourceId(id, databaseId));
      for (const o of others) databaseIdOf(o, 'rejoin: a group member');
      if (others.length === 0) {
        throw ApplicationFailure.nonRetryable(
          `rejoin of ${shortName(databaseId)}: memberDatabaseIds names no other member of ${groupNickname} to link to`,
          FAILURE_TYPES.invalidInput,
        );
      }
      const all = [databaseId, ...others];
      const interval = input.pollIntervalMs ?? DEFAULT_REREAD_INTERVAL_MS;
      const lroOptions = input.pollIntervalMs !== undefined ? { updateIntervalInMs: input.pollIntervalMs } : {};

      /** Where the rejoining member stands, as it and every other member report it. */
      const check = async (): Promise<RejoinCheck> => {
        const views = await readAll(all, databaseId);
        const view = (id: string, db: Database | undefined): MemberView => ({
          id,
          name: shortName(id),
          reachable: true,
          exists: db !== undefined,
          links: (db?.geoReplication?.linkedDatabases ?? []).flatMap((l) =>
            l.id !== undefined ? [{ id: l.id, ...(l.state !== undefined ? { state: l.state } : {}) }] : [],
          ),
        });
        return rejoinCheck(
          view(databaseId, views[0]),
          others.map((o, i) => view(o, views[i + 1])),
        );
      };
      const nothingCalled = (found: RejoinCheck, why: string): { skipped: true; reason: string } => {
        const reason = `${why}; nothing was called: ${found.summary}`;
        log.info(`rejoin of ${shortName(databaseId)}: ${reason}`);
        return { skipped: true, reason, ...laterAttempt() };
      };

      // 1. Check before acting: a member already in the group (Linking or Linked, as it and every other member
      //    report it) needs nothing; the rejoin step waits for Linked.
      const before = await check();
      if (before.inGroup) return nothingCalled(before, 'already in the group');
      log.info(`rejoin of ${shortName(databaseId)} by ${method}`, { problems: before.problems });

      if (method === 'force-link') {
        const earlier = checkpointFor(activityInfo().heartbeatDetails, 'forceLinkToReplicationGroup', databaseId);
        let last: LroCheckpoint | undefined;
        const checkpoint = (pollerState: string): LroCheckpoint =>
          (last = {
            operation: 'forceLinkToReplicationGroup',
            calledOn: databaseId,
            subject: databaseId,
            operationId: operationIdOf(pollerState),
            pollerState,
          });
        // Azure's force-link lists every member of the group, the rejoining database itself included.
        const parameters = { geoReplication: { groupNickname, linkedDatabases: all.map((id) => ({ id })) } };
        const begin = (resumeFrom?: string) =>
          beginForceLinkToReplicationGroup(
            redisFor(databaseId),
            target.resourceGroupName,
            target.clusterName,
            target.databaseName,
            parameters,
            { ...lroOptions, ...abort(), ...(resumeFrom ? { resumeFrom } : {}) },
          );
        let poller: Awaited<ReturnType<typeof begin>> | undefined;
        let resumed = false;
        try {
          if (earlier) {
            // 2. Resume the operation an earlier attempt started.
            try {
              poller = await begin(earlier.pollerState);
              resumed = true;
            } catch (e) {
              if (classifyAzureError(e).type !== FAILURE_TYPES.azureNotFound) throw e;
              log.warn(`rejoin: cannot resume operation ${earlier.operationId}: ${(e as Error).message}`);
            }
          }
          if (!poller) {
            // 3. A force-link in flight whose checkpoint was lost: wait for it instead of calling again.
            const view = await readDatabase(databaseId, true);
            const linking = (view?.geoReplication?.linkedDatabases ?? []).some((l) => l.state === 'Linking');
            if (isBusy(view)) {
              await pollUntil(async () => !isBusy(await readDatabase(databaseId, true)), interval, {
                waitingFor: 'an operation in progress on the rejoining database',
                subject: databaseId,
              });
              const after = await check();
              if (after.inGroup) return nothingCalled(after, 'the force-link that was in progress completed');
              if (linking) {
                throw operationFailed(
                  `a force-link of ${shortName(databaseId)} that was in progress ended without effect: ${after.problems.join('; ')}. Retry at the intervention gate to call it again.`,
                );
              }
            }
            // 4. Act, once (a 429 is waited out: ARM did not act on it).
            poller = await waitOutThrottling(
              () => begin(),
              `force-link of ${shortName(databaseId)}`,
              deps.throttleWaitMs,
            );
            log.info(`force-link of ${shortName(databaseId)} to ${groupNickname} started`, {
              operationId: operationIdOf(poller.toString()),
            });
          }
          await waitForPoller(poller, checkpoint);
        } catch (e) {
          if (Context.current().cancellationSignal.aborted) throw e;
          if (e instanceof ApplicationFailure) throw e;
          throw azureFailure(e, `force-link of ${shortName(databaseId)} to ${groupNickname}`);
        }
        // Verification (every member lists every other as Linked) is the rejoin step's, apart from this call, so
        // that retrying a failed verification re-verifies instead of calling force-link again.
        const operationId = last?.operationId ?? earlier?.operationId;
        return { skipped: false, ...(operationId ? { operationId } : {}), ...(resumed ? { resumed: true } : {}) };
      }

      // method 'recreate': delete the database, then create it again as a member of the group. Each phase is
      // decided by what ARM shows, so a retry continues where an earlier attempt stopped, and a database that is
      // already a member of the group (recreated into it earlier) is never deleted again.
      const waitWhileBusy = async (phase: string): Promise<Database | undefined> => {
        let view: Database | undefined;
        await pollUntil(
          async () => {
            view = await readDatabase(databaseId, true);
            return !isBusy(view);
          },
          interval,
          { waitingFor: phase, subject: databaseId },
        );
        return view;
      };
      const createdEarlier = (activityInfo().heartbeatDetails as { phase?: unknown } | undefined)?.phase === 'create';
      try {
        let view = await readDatabase(databaseId, true);
        if (isBusy(view)) view = await waitWhileBusy('an operation in progress');
        const found = await check();
        if (found.inGroup) return nothingCalled(found, 'already in the group');
        if (view && (found.listedBy.length > 0 || createdEarlier)) {
          // Deleting it would discard a member of the group: it was recreated into it (by us, or by hand) and its
          // links have not settled. The rejoin step's verification says whether they do.
          const by = found.listedBy.map((l) => `${l.name} (${l.state})`).join(', ');
          return nothingCalled(
            found,
            `not deleted again: ${shortName(databaseId)} is already a member of ${groupNickname} ` +
              (by ? `(listed by ${by})` : '(an earlier attempt of this activity created it)'),
          );
        }
        // Settings come from a member (they must match across the group), so a retry after the delete has them.
        const reference = (await readAll(others)).find((d) => d !== undefined);
        if (!reference) {
          throw ApplicationFailure.nonRetryable(
            `rejoin of ${shortName(databaseId)}: no other member of ${groupNickname} could be read`,
            FAILURE_TYPES.invalidInput,
          );
        }
        if (view) {
          const poller = await redisFor(databaseId).databases.beginDelete(
            target.resourceGroupName,
            target.clusterName,
            target.databaseName,
            { ...lroOptions, ...abort() },
          );
          log.info(`recreate: deleting ${shortName(databaseId)}`);
          await waitForPoller(poller, (pollerState) => ({ phase: 'delete', subject: databaseId, pollerState }));
        }
        const poller = await redisFor(databaseId).databases.beginCreate(
          target.resourceGroupName,
          target.clusterName,
          target.databaseName,
          {
            clientProtocol: reference.clientProtocol,
            clusteringPolicy: reference.clusteringPolicy,
            evictionPolicy: reference.evictionPolicy,
            modules: (reference.modules ?? []).map((m) => ({ name: m.name, ...(m.args ? { args: m.args } : {}) })),
            ...(view?.port !== undefined ? { port: view.port } : {}),
            geoReplication: { groupNickname, linkedDatabases: all.map((id) => ({ id })) },
          },
          { ...lroOptions, ...abort() },
        );
        log.info(`recreate: creating ${shortName(databaseId)} in ${groupNickname}`);
        await waitForPoller(poller, (pollerState) => ({ phase: 'create', subject: databaseId, pollerState }));
      } catch (e) {
        if (Context.current().cancellationSignal.aborted) throw e;
        if (e instanceof ApplicationFailure) throw e;
        throw azureFailure(e, `recreating ${shortName(databaseId)} in ${groupNickname}`);
      }
      return { skipped: false };
    },
  };
}
