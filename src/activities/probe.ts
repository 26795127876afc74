import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { ArmClients } from '../azure/clients';
import { FAILURE_TYPES } from '../contract/failures';
import { probeRedisEndpoint } from '../redis/probe';
import { readDataPlaneAccess } from './database-access';
import type { ProbeActivities, ProbeOutcomeRecord } from './types';

export interface ProbeDependencies {
  arm: ArmClients;
  /** extra CA to trust for the data plane's TLS, PEM (the emulator's); real Azure needs none */
  caPem?: string;
}

const ADDRESS = /^[A-Za-z0-9.-]+:\d{1,5}$/;

/**
 * The probe a worker in an application region runs (task queue geofailover-probe-<region>): each target through
 * the address this region uses for it, the way its applications connect.
 */
export function createProbeActivities(deps: ProbeDependencies): Pick<ProbeActivities, 'probeEndpoints'> {
  return {
    async probeEndpoints({ applicationRegion, targets, timeoutMs }) {
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
        throw ApplicationFailure.nonRetryable(
          `probe from ${applicationRegion}: timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`,
          FAILURE_TYPES.invalidInput,
        );
      }
      for (const t of targets) {
        if (!ADDRESS.test(t.address)) {
          throw ApplicationFailure.nonRetryable(
            `probe from ${applicationRegion} to ${t.memberRegion}: address "${t.address}" is not HOST:PORT`,
            FAILURE_TYPES.invalidInput,
          );
        }
      }
      const signal = Context.current().cancellationSignal;
      const records = await Promise.all(
        targets.map(async (t): Promise<ProbeOutcomeRecord> => {
          // The TLS host name, clientProtocol and secret (Entra token or key) come from ARM and the credential; the
          // address from the configuration.
          const access = await readDataPlaneAccess(
            deps.arm,
            t.databaseId,
            `probe from ${applicationRegion} to ${t.memberRegion}`,
            signal,
          );
          const r = await probeRedisEndpoint({
            address: t.address,
            hostName: access.hostName,
            tls: access.tls,
            ...(access.username !== undefined ? { username: access.username } : {}),
            password: access.password,
            ...(deps.caPem ? { caPem: deps.caPem } : {}),
            timeoutMs,
          });
          return {
            applicationRegion,
            memberRegion: t.memberRegion,
            databaseId: t.databaseId,
            address: t.address,
            outcome: r.outcome,
            ...(r.failedStage ? { failedStage: r.failedStage } : {}),
            ...(r.totalMs !== undefined ? { latencyMs: Math.round(r.totalMs * 10) / 10 } : {}),
            ...(r.error ? { error: r.error } : {}),
          };
        }),
      );
      const failed = records.filter((r) => r.outcome !== 'ok');
      if (failed.length > 0) {
        log.warn(`probe from ${applicationRegion}: ${failed.length} of ${records.length} endpoint(s) failed`, {
          failed: failed.map((r) => `${r.memberRegion} ${r.address}: ${r.outcome} at ${r.failedStage}`),
        });
      }
      return records;
    },
  };
}
