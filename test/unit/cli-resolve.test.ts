// The CLI's pure parts: configuration → group definition, the checks before a start, the dry-run plan,
// the gate rendering, error reports and where output goes.
import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigError } from '../../src/config/load';
import { EXIT_FAILED, EXIT_USAGE, RefusedError, reportError, UsageError } from '../../src/cli/errors';
import { Output } from '../../src/cli/output';
import { renderGateRequest, runbookRef } from '../../src/cli/render';
import {
  buildFailoverInput,
  checkFailedRegion,
  loadCliConfig,
  planFailover,
  planWarnings,
  resolveGroup,
  UNSIGNED_REQUEST,
  type FailoverRequest,
} from '../../src/cli/resolve';
import { STEP_NAMES } from '../../src/contract/names';
import { stepSpec } from '../../src/contract/steps';
import type { GroupDefinition } from '../../src/contract/runbook';

const EXAMPLE = path.resolve(__dirname, '../../geofailover.config.example.json');

function refusal(fn: () => unknown): RefusedError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RefusedError, `a RefusedError, got ${String(e)}`);
    return e;
  }
  assert.fail('not refused');
}

describe('CLI: from the configuration to the runbook input', () => {
  const loaded = loadCliConfig(EXAMPLE);
  const group = resolveGroup(loaded, 'leaderboard');

  it('resolves a group into the definition the workflow receives', () => {
    assert.equal(group.name, 'leaderboard');
    assert.deepEqual(Object.keys(group.members), ['eastus', 'westeurope', 'southeastasia']);
    assert.deepEqual(group.trafficManager.endpoints.eastus, { type: 'ExternalEndpoints', name: 'eastus' });
    assert.equal(group.durations.approvalTimeout, '30 minutes');
    assert.deepEqual(group.commanders, ['sre-lead']);
    assert.deepEqual(group.approvers, ['sre-lead', 'sre-manager', 'data-owner']);
  });

  it('builds a workflow input of names and the signed start only: no definition, approvers or quorum', () => {
    const input = buildFailoverInput({ group, failedRegion: 'eastus', reason: 'drill', requestedBy: 'alice' });
    assert.deepEqual(input, {
      group: 'leaderboard',
      failedRegion: 'eastus',
      reason: 'drill',
      request: UNSIGNED_REQUEST,
    });
  });

  it('refuses an unknown group, listing the known ones', () => {
    const e = refusal(() => resolveGroup(loaded, 'payments'));
    assert.equal(e.code, 'unknown-group');
    assert.match(e.message, /no group "payments" in .*geofailover\.config\.example\.json; known groups: leaderboard/);
  });

  it('refuses a failed region that is not a member, or that leaves no survivor', () => {
    const near = refusal(() => checkFailedRegion(group, 'East-US'));
    assert.equal(near.code, 'not-a-member');
    assert.equal(near.hint, 'did you mean --failed-region eastus?');
    const lonely: GroupDefinition = { ...group, members: { eastus: group.members.eastus! } };
    const none = refusal(() => checkFailedRegion(lonely, 'eastus'));
    assert.equal(none.code, 'no-survivor');
    assert.match(none.message, /eastus is the only member of group leaderboard: there is no surviving member/);
    assert.deepEqual(checkFailedRegion(group, 'westeurope'), ['eastus', 'southeastasia']);
  });

  it('plans every step in order, probing only from application regions that did not fail', () => {
    const request: FailoverRequest = { group, failedRegion: 'eastus', reason: 'drill', requestedBy: 'alice' };
    const plan = planFailover(request, 'geofailover');
    assert.deepEqual(
      plan.steps.map((s) => s.step),
      [...STEP_NAMES],
    );
    const firewall = plan.steps.find((s) => s.step === 'firewall')!;
    assert.equal(firewall.targets.length, 4, '2 application regions × 2 survivors');
    assert.ok(firewall.targets.every((t) => !t.startsWith('from eastus')));
    // What each step is comes from the runbook's step table: phase, activities, gate, what it changes.
    const forceUnlink = plan.steps.find((s) => s.step === 'force-unlink')!;
    assert.deepEqual(
      [forceUnlink.phase, forceUnlink.calls, forceUnlink.gate, forceUnlink.destructive],
      ['unlinking', ['forceUnlink', 'describeMember'], 'approval-unlink', true],
    );
    assert.deepEqual(
      plan.steps.filter((s) => s.destructive).map((s) => s.step),
      ['force-unlink', 'rejoin'],
    );
    assert.deepEqual(
      plan.steps.filter((s) => s.mutatesTrafficManager).map((s) => s.step),
      ['traffic-reroute', 'traffic-failback'],
    );
    assert.equal(plan.steps.find((s) => s.step === 'verify')!.action, stepSpec('verify').description);
    assert.deepEqual(plan.warnings, []);
    assert.deepEqual(plan.input, buildFailoverInput(request));
  });

  it('warns when the approvers other than the requester cannot reach a quorum', () => {
    const strict: GroupDefinition = { ...group, quorum: { unlink: 3, rejoin: 1, intervention: 1 } };
    const [warning, ...rest] = planWarnings({
      group: strict,
      failedRegion: 'eastus',
      reason: 'r',
      requestedBy: 'sre-lead',
    });
    assert.deepEqual(rest, []);
    assert.match(warning ?? '', /approval-unlink gate needs 3 approver\(s\) other than sre-lead, but only 2/);
  });
});

describe('CLI: rendering and errors', () => {
  it('shows what an approver decides on', () => {
    const lines = renderGateRequest({
      trigger: { reason: 'unlink-now', detail: 'alice sent unlinkNow: down for days' },
      outageMs: 75_000,
      memoryTrend: { direction: 'rising', fromPercent: 71, toPercent: 88 },
      blastRadius: { members: [{ region: 'eastus', change: 'leaves the group' }] },
    });
    assert.deepEqual(lines, [
      '  why: alice sent unlinkNow: down for days',
      "  outage so far 1 min 15 s; survivors' memory rising 71% → 88%",
      '  blast radius: eastus leaves the group',
    ]);
    assert.deepEqual(renderGateRequest({ failure: { type: 'ProbeFailed', message: 'westeurope cannot reach' } }), [
      '  why: ProbeFailed: westeurope cannot reach',
    ]);
    assert.deepEqual(renderGateRequest(undefined), []);
  });

  it('names a runbook by its group when it can', () => {
    assert.equal(runbookRef('failover/leaderboard'), 'leaderboard');
    assert.equal(runbookRef('rejoin/leaderboard'), 'rejoin/leaderboard');
  });

  it('maps errors to exit codes: usage 2, refused and invalid configuration 1', () => {
    assert.equal(reportError(new UsageError('x')).error.exitCode, EXIT_USAGE);
    assert.equal(reportError(new RefusedError('x')).error.exitCode, EXIT_FAILED);
    const config = reportError(new ConfigError('f.json: invalid', 'f.json', [{ path: 'groups', message: 'm' }]));
    assert.equal(config.error.code, 'config-invalid');
    assert.equal(config.error.exitCode, EXIT_FAILED);
  });

  it('keeps stdout one JSON document under --json and progress off a pipe', () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s) };
    const json = new Output(io, { json: true, live: false });
    json.progress('working');
    json.redraw(['table']);
    json.warn('no worker');
    json.result({ ok: true }, 'ok');
    assert.deepEqual(JSON.parse(out.join('')), { ok: true });
    assert.deepEqual(err, ['warning: no worker\n']);

    out.length = 0;
    err.length = 0;
    const tty = new Output(io, { json: false, live: true, interactive: true });
    tty.event({}, 'a step changed');
    tty.redraw(['row 1', 'row 2']);
    tty.result({}, 'final');
    assert.deepEqual(out, ['final\n'], 'on a terminal the live view replaces the event lines');
    assert.equal(err[0], 'row 1\nrow 2\n');
    assert.match(err[1] ?? '', /^\x1b\[2F\x1b\[0J$/, 'the live view is cleared before the result');
  });
});
