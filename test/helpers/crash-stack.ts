// The crash matrix's stack (test/e2e/crash-matrix*.test.ts): one failover of eastus on the real stack, its main
// worker a `geofailover worker` process, on a private file-backed dev server that can crash and come back
// (test/helpers/restartable-dev-server.ts). Two files share it so that their two runs go on at once, each on
// its own stack.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { RunbookTuning } from '../../src/contract/runbook';
import type { RunbookStatus } from '../../src/contract/types';
import { REAL_STACK_TUNING, RealStack, step } from './real-stack';
import { startRestartableDevServer, type RestartableDevServer } from './restartable-dev-server';
import { installTestRuntime } from './temporal';

export const FAILED = 'eastus';
/** Every kill point may cost an activity's timeout (a killed attempt is retried only once it has timed out). */
export const POINT_TIMEOUT_MS = 150_000;
/**
 * The drill's tuning, made for a run whose worker is killed over and over: a killed attempt counts as a failed one,
 * so reads may take longer in all (a lost attempt is noticed at its start-to-close) and mutations get more attempts
 * than the drill's 3; the heartbeat timeout (how soon a killed destructive attempt is retried) allows for a worker
 * starved of CPU by its own start-up.
 */
export const CRASH_TUNING: RunbookTuning = {
  ...REAL_STACK_TUNING,
  reads: { ...REAL_STACK_TUNING.reads, scheduleToClose: '3m' },
  mutationMaximumAttempts: 10,
  heartbeatTimeout: '10s',
};
/**
 * Replication metadata builds up slowly (64 MiB would take hours): the unlink trigger never fires on its own, so
 * await-recovery stays a watch until the commander asks for the unlink.
 */
const SLOW_METADATA_BUILDUP = 4 * 1024;

/** The ARM calls that change the group or its traffic: each must be accepted exactly once per incident. */
const DESTRUCTIVE = ['forceUnlink', 'forceLinkToReplicationGroup', 'updateEndpoint'] as const;

/** The destructive ARM calls the emulator accepted, per operation (all resources). */
export function destructiveCounts(stack: RealStack): Record<string, number> {
  return Object.fromEntries(DESTRUCTIVE.map((op) => [op, stack.count(op)]));
}

/** One incident's destructive calls: one unlink, one link, the endpoint disabled once and enabled once. */
export const EXACTLY_ONCE = { forceUnlink: 1, forceLinkToReplicationGroup: 1, updateEndpoint: 2 };

export const succeeded =
  (...names: Parameters<typeof step>[1][]) =>
  (s: RunbookStatus) =>
    names.every((n) => step(s, n).status === 'succeeded');

export interface CrashStack {
  server: RestartableDevServer;
  env: TestWorkflowEnvironment;
  stack: RealStack;
  close(): Promise<void>;
}

/** A restartable dev server, a client of it, and a stack without its main worker (the test spawns it). */
export async function startCrashStack(): Promise<CrashStack> {
  const server = await startRestartableDevServer();
  let env: TestWorkflowEnvironment | undefined;
  try {
    installTestRuntime();
    env = await TestWorkflowEnvironment.createFromExistingServer({ address: server.address, namespace: 'default' });
    const stack = await RealStack.start(env, {
      mainWorker: false,
      temporalAddress: server.address,
      metadataBytesPerSecond: SLOW_METADATA_BUILDUP,
    });
    const opened = env;
    return {
      server,
      env: opened,
      stack,
      close: async () => {
        await stack.close();
        await opened.teardown();
        await server.close();
      },
    };
  } catch (e) {
    await env?.teardown();
    await server.close();
    throw e;
  }
}
