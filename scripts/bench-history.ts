/**
 * `npm run bench -- --history` (or `npx tsx scripts/bench-history.ts`): how fast a long outage grows the runbook's
 * history, and how large one run gets before it continues as new — on a Temporal dev server with its default limits.
 * The real failoverRunbook waits in await-recovery (the region stays down, no trigger fires) with the mocked
 * activities of the tests and a 10 ms poll interval, until the incident has continued as new twice; each run's history
 * is then counted. Events per poll do not depend on the interval, so events per hour follow for the default 1-minute
 * poll. Prints a Markdown table.
 */
import os from 'node:os';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { fetchIncidentRuns } from '../src/audit/chain';
import { statusQuery } from '../src/contract/messages';
import { WORKFLOW_TYPES, workflowIds } from '../src/contract/names';
import type { RunbookStatus } from '../src/contract/types';
import { startDevServer } from '../src/drill/dev-server';
import { MAX_POLLS_PER_RUN } from '../src/workflows/runbook/runbook';
import { withFakeWorkers } from '../test/helpers/fake-workers';
import { FakeGroup, testGroup, testInput, testRegions } from '../test/helpers/runbook-fakes';

/** Temporal's default hard limit on one run's history (limit.historyCount.error). */
const HISTORY_LIMIT = 51_200;
const DEFAULT_POLLS_PER_HOUR = 60;

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const tools = (await import('./tools.mjs')) as { ensureTemporalCli(o: object): Promise<{ path: string }> };
  const cli = await tools.ensureTemporalCli({ log: () => undefined });
  const server = await startDevServer({ cli: cli.path });
  try {
    const env = await TestWorkflowEnvironment.createFromExistingServer({
      address: server.address,
      namespace: 'default',
    });
    const bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('../src/workflows'),
      logger: new DefaultLogger('ERROR'),
    });
    const regions = testRegions();
    const fake = new FakeGroup(
      testGroup(regions, (g) => (g.durations.recoveryPollInterval = '10ms')),
      regions[0],
    );
    const started = performance.now();
    const workflowId = await withFakeWorkers(env, bundle, fake, async (taskQueue) => {
      const input = testInput(fake.group, regions[0]);
      const handle = await env.client.workflow.start(WORKFLOW_TYPES.failoverRunbook, {
        taskQueue,
        workflowId: workflowIds.failover(input.group),
        args: [input],
      });
      for (;;) {
        const status = (await handle.query(statusQuery)) as RunbookStatus;
        if ((status.continued?.run ?? 1) >= 3) break;
        if (performance.now() - started > 15 * 60_000) throw new Error('no second continue-as-new within 15 minutes');
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
      await handle.terminate('benchmark done');
      return handle.workflowId;
    });
    const runs = await fetchIncidentRuns(env.client, workflowId);
    const ended = runs.slice(0, -1); // the last run was terminated mid-way
    const survivors = regions.length - 1;
    const rows = ended.map((run, i) => {
      const events = run.history.events ?? [];
      const reads = events.filter(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'readMemory',
      ).length;
      const polls = Math.round(reads / survivors);
      return { run: i + 1, events: events.length, polls };
    });
    // The second run is await-recovery only: its events per poll are the outage's rate.
    const steady = rows[1] ?? rows[0]!;
    const perPoll = steady.events / Math.max(1, steady.polls);
    const perHour = perPoll * DEFAULT_POLLS_PER_HOUR;
    const largest = Math.max(...rows.map((r) => r.events));
    const out = [
      '| measure | value |',
      '|---|---|',
      ...rows.map(
        (r) =>
          `| run ${r.run}: history events (await-recovery polls) | ${r.events} (${r.polls}${r.run === 1 ? ', after the checks and the reroute' : ''}) |`,
      ),
      `| history events per await-recovery poll (outage: 2 survivors' memory + the failed member) | ${perPoll.toFixed(1)} |`,
      `| history events per hour of outage at the default 1-minute poll | ${Math.round(perHour)} |`,
      `| largest history of one run (continues as new when Temporal suggests it, or after ${MAX_POLLS_PER_RUN} polls) | ${largest} |`,
      `| without continue-as-new: days of outage until Temporal's ${HISTORY_LIMIT.toLocaleString('en')}-event limit | ${(HISTORY_LIMIT / perHour / 24).toFixed(1)} |`,
    ];
    process.stdout.write(
      `${out.join('\n')}\n\nmeasured in ${Math.round((performance.now() - started) / 1000)} s on a Temporal dev server ` +
        `with default limits; machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ` +
        `${new Date().toISOString().slice(0, 10)}\n`,
    );
    await env.teardown();
  } finally {
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
