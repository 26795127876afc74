// A rehearsal's notices say it is a rehearsal: a schedule's start tells the people who will answer its gates that a
// rehearsal waits on them, and a gate it opens is titled as a rehearsal's. Valid Slack and Teams messages.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { jsonMessage, slackMessage, teamsMessage } from '../../src/activities/notification-payloads';
import { scheduleIds, workflowIds } from '../../src/contract/names';
import { ApprovalGate } from '../../src/workflows/runbook/gate';
import { gateNotification, rehearsalStartedNotification } from '../../src/workflows/runbook/notify-messages';

const schemaDir = path.resolve(__dirname, '../fixtures/notification-schemas');
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validSlack = ajv.compile(JSON.parse(readFileSync(path.join(schemaDir, 'slack-message.schema.json'), 'utf8')));
const validTeams = ajv.compile(
  JSON.parse(readFileSync(path.join(schemaDir, 'teams-adaptive-card.schema.json'), 'utf8')),
);

const group = 'leaderboard';
const workflowId = `${workflowIds.rehearsal(group)}-2027-01-05T10:00:00Z`;
const context = { workflowId, group, region: 'eastus', mode: 'rehearsal' as const };
const AT = '2027-01-05T10:00:02.000Z';
const schedule = {
  scheduleId: scheduleIds.rehearsal(group),
  orderedBy: 'sre-lead',
  orderExpiresAt: '2027-12-01T00:00:00.000Z',
};

describe('rehearsal notices', () => {
  it('a scheduled rehearsal that starts says so, names its schedule and standing order, and that gates wait on people', () => {
    const n = rehearsalStartedNotification(context, schedule, AT);
    assert.equal(n.event, 'rehearsal-started');
    assert.equal(n.mode, 'rehearsal');
    assert.match(n.title, /^Rehearsal started on schedule: leaderboard drains eastus/);
    assert.match(n.text, /not an outage/);
    assert.match(n.text, /gates wait on people/);
    assert.deepEqual(n.schedule, schedule);
    assert.ok(n.howToAnswer.some((c) => c.includes(`geofailover abort ${workflowId}`)));
    const slack = slackMessage(n);
    assert.ok(validSlack(slack), ajv.errorsText(validSlack.errors));
    assert.match(JSON.stringify(slack), /rehearsal \(not an outage\)/);
    assert.match(JSON.stringify(slack), /rehearsal-schedule\/leaderboard/);
    assert.ok(validTeams(teamsMessage(n)), ajv.errorsText(validTeams.errors));
    assert.equal((jsonMessage(n) as { event: string }).event, 'rehearsal-started');
  });

  it("a rehearsal's gate is titled as a rehearsal's, and an incident's is not", () => {
    const gate = new ApprovalGate(
      'approval-unlink',
      'approval-unlink',
      { group, approvers: ['sre-manager'], requestedBy: 'sre-lead', quorum: 1 },
      AT,
      { survivors: ['westeurope'] },
      1,
      ['/subscriptions/s/x'],
    );
    const rehearsal = gateNotification('approval-needed', gate, context, AT);
    assert.match(rehearsal.title, /^Rehearsal — Approval needed: approval-unlink of leaderboard/);
    assert.match(rehearsal.text, /rehearsal of leaderboard \(region eastus, healthy, drained on purpose\)/);
    assert.equal(rehearsal.mode, 'rehearsal');
    const incident = gateNotification('approval-needed', gate, { ...context, mode: 'incident' }, AT);
    assert.match(incident.title, /^Approval needed/);
    assert.equal(incident.mode, undefined);
  });
});
