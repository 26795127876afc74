/**
 * `geofailover drill`: the whole failover on embedded defaults, as an SRE would run it — toolchain, Temporal
 * (its own dev server unless TEMPORAL_ADDRESS names one), the emulator, the configuration for it, the main worker
 * and a probe worker per application region; then a region outage, failoverRunbook, traffic moving, metadata
 * build-up to the unlink trigger, the gates, force-unlink, recovery, rejoin and failback (or, with a short
 * outage, the region back before the trigger and nothing destructive); then the evidence package and a check of
 * the final state against ARM. Everything it started is stopped at the end, on failure and on Ctrl-C.
 */
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { currentWorkflowBundle } from '../audit/replay';
import { startEmulator } from '../emulator/index';
import { DRILL_CONFIG_FILE, writeDrillConfig } from './config';
import { startDevServer } from './dev-server';
import type { DrillReporter, DrillSummary } from './events';
import { evidenceOfFailure, recordEvidence, type IncidentRef } from './evidence';
import { runEvacuationDrill, writeEvacuationConfig } from './evacuation';
import { runIncident } from './incident';
import { runRehearsal } from './rehearsal';
import type { DrillPlan } from './scenario';
import { DRILL_EMULATOR_TIMING, type DrillOptions } from './settings';
import type { Teardown } from './teardown';
import { findFreePort } from '../emulator/data-plane/free-port';
import { scrapeMetrics } from '../observability/prometheus';
import { ensureSearchAttributes } from './search-attributes';
import { connectTemporal, conventionalTarget, ownServerTarget, type TemporalTarget } from './temporal';
import { ensureToolchain } from './toolchain';
import { checkFinalState, countCalls } from './verify';
import { DrillInterrupted, DrillStepError, stepOf } from './watcher';
import { startDrillWorkers } from './workers';

export { DrillInterrupted, DrillStepError };

function checkAbort(signal: AbortSignal): void {
  if (signal.aborted) throw new DrillInterrupted((signal.reason as NodeJS.Signals) ?? 'SIGINT');
}

/** What the workers' /metrics shows after the run: the runbook's own metrics, in the summary (never a check). */
async function recordMetrics(port: number, url: string, reporter: DrillReporter, summary: DrillSummary): Promise<void> {
  try {
    const text = await scrapeMetrics('127.0.0.1', port);
    // Histogram buckets left out: their sums and counts say enough in a summary.
    const runbook = text
      .split('\n')
      .filter((line) => line.startsWith('geofailover_') && !/^geofailover_\w+_bucket\{/.test(line));
    summary.metrics = { url, runbook: runbook.slice(0, 60) };
    reporter.emit(
      { type: 'metrics', url, lines: runbook.length },
      `metrics: ${runbook.length} runbook sample(s) at ${url} (geofailover_rto_seconds, geofailover_gate_wait_seconds, …)`,
    );
  } catch (e) {
    reporter.warn(`the workers' metrics could not be read at ${url}: ${(e as Error)?.message ?? String(e)}`);
  }
}

/**
 * Runs the drill and resolves with its summary (never rejects for a failed drill: the summary says what failed).
 * Everything started is registered with `teardown`, which the caller runs when this returns — or at once on a
 * second Ctrl-C.
 */
export async function runDrill(
  plan: DrillPlan,
  options: DrillOptions,
  reporter: DrillReporter,
  teardown: Teardown,
): Promise<DrillSummary> {
  const { signal } = options;
  const summary: DrillSummary = {
    ok: false,
    exitCode: 1,
    path: plan.evacuate
      ? 'evacuation'
      : plan.rehearsal
        ? 'rehearsal'
        : plan.shortOutage
          ? 'short-outage'
          : 'long-outage',
    ...(plan.evacuate ? {} : { mode: plan.rehearsal ? ('rehearsal' as const) : ('drill' as const) }),
    group: plan.group,
    failedRegion: plan.failedRegion,
    checks: [],
    failed: [],
    wallMs: 0,
  };
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-drill-'));
  const logFile = path.join(workDir, 'drill.log');
  let keepWorkDir = true;
  // First in, last out: the work dir goes once everything that uses it has stopped (kept when the drill failed).
  teardown.add('work dir', async () => {
    if (!keepWorkDir) rmSync(workDir, { recursive: true, force: true });
  });
  const fileLog = (line: string): void => {
    try {
      appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`);
    } catch {
      // the work dir is gone
    }
  };

  // Once the runbook has started: what the evidence of a failed drill is written from.
  let incident: IncidentRef | undefined;

  try {
    const ownServer = !options.env.TEMPORAL_ADDRESS;
    const tools = await ensureToolchain({ temporalCli: ownServer, log: (line) => reporter.log(line) });
    checkAbort(signal);

    const { target, serverPid } = await startTemporal(
      ownServer,
      tools.temporalCli?.path,
      reporter,
      teardown,
      signal,
      options.dynamicConfig,
    );
    // Before anything else starts: a server that cannot be reached fails the drill at once.
    const metricsPort = await findFreePort('127.0.0.1');
    const temporal = await connectTemporal(target, logFile, metricsPort);
    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    reporter.log(`workers' metrics (Prometheus): ${metricsUrl}`);
    if (!target.ownServer) {
      const added = await ensureSearchAttributes(temporal.client, target.namespace);
      if (added.length) reporter.log(`registered the search attributes ${added.join(', ')} on ${target.namespace}`);
    }
    teardown.add('Temporal connections', () => temporal.close());
    checkAbort(signal);

    mkdirSync(path.join(workDir, 'emulator'));
    const emulator = await startEmulator({
      scenario: plan.scenario,
      redisServerPath: tools.redisServer.path,
      workDir: path.join(workDir, 'emulator'),
      ...(options.emulatorLatencies ? { latencies: options.emulatorLatencies } : {}),
      // An estate's databases share one redis-server per region (the shape large estates get anyway).
      ...(plan.evacuate ? { dataPlane: 'shared' as const } : {}),
      lro: DRILL_EMULATOR_TIMING.lro,
      metadataTickMs: DRILL_EMULATOR_TIMING.metadataTickMs,
      log: (line) => fileLog(`[emulator] ${line}`),
    });
    teardown.add('emulator and its redis-servers', () => emulator.close());
    reporter.emit(
      {
        type: 'emulator',
        arm: emulator.arm,
        control: emulator.control,
        scenario: plan.scenarioSource,
        regions: [...plan.scenario.regions],
      },
      `emulator: ARM ${emulator.arm}, control ${emulator.control}, scenario ${plan.scenarioSource} ` +
        `(regions ${plan.scenario.regions.join(', ')}; ${emulator.dataPlane.redisServers} redis-server(s), ` +
        `${emulator.dataPlane.shape === 'shared' ? 'one per region' : 'one per database'})`,
    );
    checkAbort(signal);

    const config = plan.evacuate
      ? writeEvacuationConfig(emulator, plan, workDir)
      : writeDrillConfig(emulator, plan, workDir, { interactive: options.interactive });
    reporter.emit(
      {
        type: 'config',
        file: config.file,
        group: config.group.name,
        approvers: config.group.approvers,
        quorum: { ...config.group.quorum },
      },
      `configuration: ${config.file} (group ${config.group.name}: members ${Object.keys(config.group.members).join(', ')}; ` +
        `approvers ${config.group.approvers.join(', ')}; quorum ${config.group.quorum.unlink} to unlink, ` +
        `${config.group.quorum.rejoin} to rejoin)`,
    );

    const workflowBundle = await currentWorkflowBundle();
    checkAbort(signal);
    const workers = await startDrillWorkers({
      connection: temporal.nativeConnection,
      namespace: target.namespace,
      taskQueue: options.taskQueue,
      config: config.loaded,
      group: config.group,
      workflowBundle,
    });
    teardown.add('workers', () => workers.stop());
    reporter.emit(
      { type: 'workers', taskQueue: workers.taskQueue, probeTaskQueues: workers.probeTaskQueues },
      `workers: main on task queue ${workers.taskQueue}; probes on ${workers.probeTaskQueues.join(', ')}`,
    );
    reporter.emit(
      {
        type: 'started',
        pid: process.pid,
        pids: { drill: process.pid, ...(serverPid !== undefined ? { temporal: serverPid } : {}) },
        workDir,
        logFile,
      },
      `started (drill pid ${process.pid}); workers' and emulator's log: ${logFile}`,
    );
    checkAbort(signal);

    // What both stories run with: the stack this drill started.
    const stack = {
      plan,
      options,
      reporter,
      teardown,
      emulator,
      config,
      target,
      client: temporal.client,
      clientAs: (by: string) => temporal.clientAs(by),
      healthCheck: () => workers.failure(),
    };
    if (plan.evacuate) {
      // The whole region: one evacuation over every group, its own checks and evidence (drill/evacuation.ts).
      summary.checks = await runEvacuationDrill({ ...stack, summary });
      await recordMetrics(metricsPort, metricsUrl, reporter, summary);
    } else {
      // A rehearsal is the same story on a healthy region: started as `geofailover rehearse` starts it.
      const run = await (plan.rehearsal ? runRehearsal : runIncident)({
        ...stack,
        onStarted: (workflowId, runId) => (incident = { client: temporal.client, workflowId, runId, target }),
      });
      Object.assign(summary, {
        workflowId: run.workflowId,
        runId: run.runId,
        outcome: run.result.outcome,
        ...(run.result.rtoMs !== undefined ? { rtoMs: run.result.rtoMs } : {}),
      });

      const checks = checkFinalState({
        emulator,
        members: Object.keys(config.group.members),
        failedRegion: plan.failedRegion,
        endpointName: config.group.trafficManager.endpoints[plan.failedRegion]?.name ?? plan.failedRegion,
        unlinkExpected: run.unlinkApproved,
        result: run.result,
      });
      if (plan.rehearsal) {
        const check = stepOf(run.result.status, 'replication-check');
        checks.push({
          check: 'replication-check',
          ok: check?.status === 'succeeded',
          detail: `${check?.status ?? 'not run'}${check?.summary ? `: ${check.summary}` : ''}`,
        });
      }
      summary.forceUnlinks = countCalls(emulator, 'forceUnlink');
      await recordMetrics(metricsPort, metricsUrl, reporter, summary);

      const report = await recordEvidence(
        temporal.client,
        run.workflowId,
        run.runId,
        target,
        options.outDir,
        reporter,
        summary,
      );
      checks.push({
        check: 'replay',
        ok: report.replay.verdict === 'verified',
        detail:
          report.replay.verdict === 'verified'
            ? `the history (${report.workflow.historyEvents} events) replays against the current workflow code`
            : `diverged${report.replay.mismatch ? `: ${report.replay.mismatch.message}` : ''}`,
      });
      summary.checks = checks;
    }
    for (const check of summary.checks) {
      reporter.emit({ type: 'check', ...check }, `${check.ok ? '✓' : '✗'} check ${check.check}: ${check.detail}`);
    }
    summary.failed = summary.checks.filter((c) => !c.ok).map((c) => `${c.check}: ${c.detail}`);
    summary.ok = summary.failed.length === 0;
  } catch (e) {
    if (e instanceof DrillInterrupted || signal.aborted) {
      const by = e instanceof DrillInterrupted ? e.signal : ((signal.reason as NodeJS.Signals) ?? 'SIGINT');
      summary.interrupted = by;
      summary.failed.push(`interrupted by ${by}`);
    } else {
      const message = (e as Error)?.message ?? String(e);
      summary.error = message;
      summary.failed.push(message);
      reporter.log(`the drill failed: ${message}`);
      if (incident) await evidenceOfFailure(incident, options.outDir, reporter, summary);
    }
  }
  summary.exitCode = summary.ok ? 0 : summary.interrupted ? (summary.interrupted === 'SIGTERM' ? 143 : 130) : 1;
  // A failed drill keeps what explains it (configuration, drill.log), once there is something.
  keepWorkDir = !summary.ok && !summary.interrupted && existsSync(path.join(workDir, DRILL_CONFIG_FILE));
  if (keepWorkDir) summary.workDir = workDir;
  return summary;
}

/** The Temporal server: the one TEMPORAL_ADDRESS names, or a dev server of the drill's own with its Web UI. */
async function startTemporal(
  own: boolean,
  cli: string | undefined,
  reporter: DrillReporter,
  teardown: Teardown,
  signal: AbortSignal,
  dynamicConfig?: readonly string[],
): Promise<{ target: TemporalTarget; serverPid?: number }> {
  if (!own || !cli) {
    const existing = conventionalTarget();
    reporter.emit(
      { type: 'temporal', address: existing.address, namespace: existing.namespace, ownServer: false },
      `Temporal: the server at ${existing.address} (namespace ${existing.namespace}, from TEMPORAL_ADDRESS)`,
    );
    return { target: existing };
  }
  reporter.log('starting a Temporal dev server (with its Web UI)…');
  const server = await startDevServer({ cli, ui: true, signal, ...(dynamicConfig ? { dynamicConfig } : {}) });
  teardown.add(
    'Temporal dev server',
    () => server.stop(),
    () => server.killNow(),
  );
  reporter.emit(
    {
      type: 'temporal',
      address: server.address,
      namespace: 'default',
      ownServer: true,
      ...(server.uiUrl ? { uiUrl: server.uiUrl } : {}),
      pid: server.pid,
    },
    `Temporal dev server on ${server.address} (pid ${server.pid})` +
      (server.uiUrl ? `\nTemporal Web UI: ${server.uiUrl}` : ''),
  );
  return { target: ownServerTarget(server.address, server.uiUrl), serverPid: server.pid };
}
