// A rehearsal's replication check, on the probe workers (task queue geofailover-probe-<region>): a canary key
// written in one member and read in the others through each application region's own address for them, the way
// its applications connect. TLS host name, clientProtocol and secret come from ARM, the address from the
// configuration (as probeEndpoints does).
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { CanaryReadRecord, ProbeActivities, ProbeTargetInput } from '../contract/activities';
import { FAILURE_TYPES } from '../contract/failures';
import { readDataPlaneAccess } from './database-access';
import type { ProbeDependencies } from './probe';
import { withRedis } from './redis-session';

const ADDRESS = /^[A-Za-z0-9.-]+:\d{1,5}$/;
/** canary keys the rehearsal writes: its own prefix, never an application's key */
const CANARY_KEY = /^geofailover:canary:[A-Za-z0-9:._/-]{1,200}$/;
const MAX_VALUE = 512;
const MAX_ERROR = 300;

function invalid(message: string): never {
  throw ApplicationFailure.nonRetryable(message, FAILURE_TYPES.invalidInput);
}

function checkCommon(what: string, key: string, timeoutMs: number, targets: readonly ProbeTargetInput[]): void {
  if (!CANARY_KEY.test(key))
    invalid(`${what}: key ${JSON.stringify(key.slice(0, 80))} is not a geofailover canary key`);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) invalid(`${what}: timeoutMs must be positive, got ${timeoutMs}`);
  for (const t of targets) {
    if (!ADDRESS.test(t.address)) invalid(`${what} to ${t.memberRegion}: address "${t.address}" is not HOST:PORT`);
  }
}

/** canaryWrite and canaryRead for a probe worker. */
export function createCanaryActivities(deps: ProbeDependencies): Pick<ProbeActivities, 'canaryWrite' | 'canaryRead'> {
  return {
    async canaryWrite({ applicationRegion, target, key, value, ttlSeconds, timeoutMs }) {
      const what = `canary write from ${applicationRegion} to ${target.memberRegion}`;
      checkCommon(what, key, timeoutMs, [target]);
      if (typeof value !== 'string' || value.length === 0 || value.length > MAX_VALUE) {
        invalid(`${what}: value must be 1 to ${MAX_VALUE} characters`);
      }
      if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) invalid(`${what}: ttlSeconds must be a whole number ≥ 1`);
      const signal = Context.current().cancellationSignal;
      const access = await readDataPlaneAccess(deps.arm, target.databaseId, what, signal);
      const started = performance.now();
      await withRedis(access, { caPem: deps.caPem, timeoutMs, what, address: target.address }, (c) =>
        c.set(key, value, { expiration: { type: 'EX', value: ttlSeconds } }),
      );
      return {
        applicationRegion,
        memberRegion: target.memberRegion,
        address: target.address,
        value,
        latencyMs: Math.round((performance.now() - started) * 10) / 10,
      };
    },

    async canaryRead({ applicationRegion, targets, key, timeoutMs }) {
      const what = `canary read from ${applicationRegion}`;
      checkCommon(what, key, timeoutMs, targets);
      const signal = Context.current().cancellationSignal;
      return Promise.all(
        targets.map(async (t): Promise<CanaryReadRecord> => {
          const record = { applicationRegion, memberRegion: t.memberRegion, address: t.address };
          const started = performance.now();
          try {
            const access = await readDataPlaneAccess(deps.arm, t.databaseId, `${what} to ${t.memberRegion}`, signal);
            const value = await withRedis(
              access,
              { caPem: deps.caPem, timeoutMs, what: `${what} to ${t.memberRegion}`, address: t.address },
              (c) => c.get(key),
            );
            return {
              ...record,
              value: typeof value === 'string' ? value.slice(0, MAX_VALUE) : null,
              latencyMs: Math.round((performance.now() - started) * 10) / 10,
            };
          } catch (e) {
            if (signal.aborted) throw signal.reason ?? e;
            return { ...record, value: null, error: String((e as Error)?.message ?? e).slice(0, MAX_ERROR) };
          }
        }),
      );
    },
  };
}
