// Slack and Teams messages for every runbook event, built from real gates, validated against the published shapes
// (Block Kit limits; Adaptive Card 1.5 in a Teams message): test/fixtures/notification-schemas.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { adaptiveCard, jsonMessage, slackMessage, teamsMessage } from '../../src/activities/notification-payloads';
import type { RunbookNotification } from '../../src/activities/types';
import { workflowIds } from '../../src/contract/names';
import { ApprovalGate } from '../../src/workflows/runbook/gate';
import { InterventionGate } from '../../src/workflows/runbook/intervention';
import { gateNotification, runEndedNotification } from '../../src/workflows/runbook/notify-messages';

const schemaDir = path.resolve(__dirname, '../fixtures/notification-schemas');
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validSlack = ajv.compile(JSON.parse(readFileSync(path.join(schemaDir, 'slack-message.schema.json'), 'utf8')));
const validTeams = ajv.compile(
  JSON.parse(readFileSync(path.join(schemaDir, 'teams-adaptive-card.schema.json'), 'utf8')),
);

function assertValid(validate: typeof validSlack, payload: unknown, what: string): void {
  assert.ok(validate(payload), `${what}: ${ajv.errorsText(validate.errors, { separator: '\n' })}`);
}

const group = 'leaderboard';
const context = { workflowId: workflowIds.failover(group), group, region: 'eastus' };
const rules = { group, approvers: ['sre-manager', 'data-owner'], requestedBy: 'sre-lead', quorum: 1 };
const AT = '2026-05-01T10:00:00.000Z';

function approvalGate(request: unknown = { survivors: ['westeurope', 'southeastasia'], outageMinutes: 42 }) {
  const gate = new ApprovalGate('approval-unlink', 'approval-unlink', rules, AT, request, 1, [
    '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/redisEnterprise/redis-eastus/databases/default',
  ]);
  gate.escalatesAt = '2026-05-01T10:30:00.000Z';
  gate.expiresAt = '2026-05-01T10:45:00.000Z';
  return gate;
}

function interventionGate() {
  return new InterventionGate(
    'traffic-reroute',
    { type: 'AzureThrottled', message: 'setEndpointStatus: 429 Too Many Requests after 5 attempts' },
    rules,
    AT,
    2,
    ['sre-lead', 'sre-manager', 'data-owner'],
  );
}

function all(): RunbookNotification[] {
  return [
    gateNotification('approval-needed', approvalGate(), context, AT),
    gateNotification('intervention-needed', interventionGate(), context, AT),
    gateNotification('escalation', approvalGate(), context, AT),
    runEndedNotification(
      { outcome: 'completed', summary: 'traffic rerouted in 0.6 s (RTO)', rtoMs: 617, status: {} as never },
      context,
      AT,
    ),
    runEndedNotification({ outcome: 'aborted', summary: 'aborted by sre-lead', status: {} as never }, context, AT),
  ];
}

describe('notification payloads (Slack Block Kit, Teams Adaptive Card 1.5, generic JSON)', () => {
  it('every event validates as a Slack message and as a Teams message with an Adaptive Card 1.5', () => {
    for (const n of all()) {
      assertValid(validSlack, slackMessage(n), `slack ${n.event}`);
      assertValid(validTeams, teamsMessage(n), `teams ${n.event}`);
      const card = adaptiveCard(n);
      assert.equal(card.version, '1.5');
      assert.equal(card.type, 'AdaptiveCard');
    }
  });

  it('an approval names the gate, its evidence and the exact commands: geofailover and plain temporal', () => {
    const n = gateNotification('approval-needed', approvalGate(), context, AT);
    assert.equal(n.title, 'Approval needed: approval-unlink of leaderboard');
    assert.deepEqual(n.evidence, [
      { label: 'survivors', value: '["westeurope","southeastasia"]' },
      { label: 'outageMinutes', value: '42' },
    ]);
    assert.match(n.gate!.waitingFor, /1 more approval\(s\) from sre-manager, data-owner/);
    for (const payload of [slackMessage(n), teamsMessage(n), jsonMessage(n)]) {
      const text = JSON.stringify(payload);
      assert.ok(text.includes('approval-unlink'), 'names the gate');
      assert.ok(text.includes('westeurope'), 'shows the evidence');
      assert.ok(text.includes('geofailover approve leaderboard --key KEY_FILE'), 'the geofailover command');
      assert.ok(
        text.includes(`temporal workflow signal --workflow-id ${context.workflowId} --name approve`),
        'the plain Temporal CLI command',
      );
    }
  });

  it('an intervention shows the failure and the intervene commands', () => {
    const n = gateNotification('intervention-needed', interventionGate(), context, AT);
    assert.equal(n.gate?.kind, 'intervention');
    assert.deepEqual(
      n.evidence.map((f) => f.label),
      ['failure.type', 'failure.message'],
    );
    const slack = JSON.stringify(slackMessage(n));
    assert.ok(slack.includes('AzureThrottled'));
    assert.ok(slack.includes('geofailover intervene leaderboard --action retry|skip|abort --key KEY_FILE'));
    assert.ok(JSON.stringify(teamsMessage(n)).includes('--name intervene'));
  });

  it('the end of a run says how it ended and the RTO', () => {
    const [, , , completed] = all();
    assert.equal(completed!.title, 'Runbook completed: leaderboard (eastus)');
    const facts = JSON.stringify(adaptiveCard(completed!));
    assert.ok(facts.includes('"title":"RTO","value":"0.6 s"'));
    assert.deepEqual(jsonMessage(completed!).outcome, 'completed');
  });

  it('stays within Slack’s limits whatever the evidence: long texts cut, more than ten facts folded', () => {
    const long = 'x'.repeat(5000);
    const request = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`fact${i}${long}`, long]));
    const n = gateNotification('approval-needed', approvalGate(request), { ...context, group: long }, AT);
    const slack = slackMessage(n);
    assertValid(validSlack, slack, 'slack, oversized');
    assertValid(validTeams, teamsMessage(n), 'teams, oversized');
    const blocks = slack.blocks as { type: string; text?: { text: string } }[];
    const commands = blocks.find((b) => b.text?.text.startsWith('*Answer with*'));
    assert.ok(commands?.text?.text.endsWith('```'), 'the code fence survives the cut');
  });

  it('mrkdwn control characters are escaped (no link or mention injection from evidence)', () => {
    const n = gateNotification(
      'approval-needed',
      approvalGate({ note: '<!channel> & <https://evil|click>' }),
      context,
      AT,
    );
    const text = JSON.stringify(slackMessage(n));
    assert.ok(!text.includes('<!channel>'));
    assert.ok(text.includes('&lt;!channel&gt; &amp; &lt;https://evil|click&gt;'));
  });

  it('links the run’s page in the Temporal Web UI when the worker knows it', () => {
    const link = 'https://temporal.example.com/namespaces/default/workflows/failover%2Fleaderboard/run-1/history';
    const n = all()[0]!;
    const slack = slackMessage(n, link);
    assertValid(validSlack, slack, 'slack with link');
    assert.ok(JSON.stringify(slack).includes(`<${link}|Temporal Web UI>`));
    const teams = teamsMessage(n, link);
    assertValid(validTeams, teams, 'teams with link');
    assert.deepEqual(adaptiveCard(n, link).actions, [
      { type: 'Action.OpenUrl', title: 'Open in Temporal Web UI', url: link },
    ]);
    assert.equal(jsonMessage(n, link).webUi, link);
    assert.equal(adaptiveCard(n).actions, undefined, 'no link, no action');
  });

  it('the schemas bite: an over-long header or an unknown card property is refused', () => {
    const n = all()[0]!;
    const slack = slackMessage(n) as { blocks: { text?: { text: string } }[] };
    slack.blocks[0]!.text!.text = 'h'.repeat(151);
    assert.equal(validSlack(slack), false);
    const teams = teamsMessage(n) as { attachments: { content: Record<string, unknown> }[] };
    (teams.attachments[0]!.content.body as Record<string, unknown>[])[0]!.colour = 'Good';
    assert.equal(validTeams(teams), false);
  });
});
