// The notify activity as the worker builds it from its configuration: Slack, Teams and generic JSON targets named by
// reference, delivered over real HTTPS to receivers on 127.0.0.1 (trusting the worker's extra CA), with retries and
// the deliveries reported; the bodies validate against the published shapes (test/fixtures/notification-schemas).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { createNotificationActivities } from '../../src/activities/notification';
import type { NotificationActivities, RunbookNotification } from '../../src/activities/types';
import { parseConfig } from '../../src/config/load';
import { createCertificateAuthority, issueServerCertificate } from '../../src/emulator/certificates';
import { activityDependenciesFromConfig, WorkerSetupError } from '../../src/worker';
import { COMMANDERS, peopleConfig } from '../helpers/people';

const SECRET = 'T0PATHSECRET';
const vars = {
  slack: `GF_TEST_SLACK_${process.pid}`,
  teams: `GF_TEST_TEAMS_${process.pid}`,
  json: `GF_TEST_JSON_${process.pid}`,
};

const NOTIFICATION: RunbookNotification = {
  event: 'approval-needed',
  workflowId: 'geofailover-failover-leaderboard',
  group: 'leaderboard',
  region: 'eastus',
  title: 'Approval needed: approval-unlink of leaderboard',
  text: 'The runbook for leaderboard waits at approval-unlink and needs 1 more approval(s) from sre-manager.',
  gate: {
    name: 'approval-unlink',
    kind: 'approval',
    step: 'approval-unlink',
    instance: 1,
    requestedAt: '2026-05-01T10:00:00.000Z',
    waitingFor: '1 more approval(s) from sre-manager',
  },
  evidence: [{ label: 'survivors', value: 'westeurope, southeastasia' }],
  howToAnswer: [
    'geofailover approve leaderboard --key KEY_FILE',
    'geofailover approve leaderboard --key KEY_FILE --print-payload > approve.json && temporal workflow signal --workflow-id geofailover-failover-leaderboard --name approve --input-file approve.json',
  ],
  at: '2026-05-01T10:00:00.000Z',
};

type Received = { url?: string; body: string };
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('notifications to Slack, Teams and generic JSON receivers (real HTTPS, worker wiring)', function () {
  this.timeout(20_000);
  let dir: string;
  let server: Server;
  let origin: string;
  const received: Received[] = [];
  let handler: Handler;

  const schemas = path.resolve(__dirname, '../fixtures/notification-schemas');
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const validSlack = ajv.compile(JSON.parse(readFileSync(path.join(schemas, 'slack-message.schema.json'), 'utf8')));
  const validTeams = ajv.compile(
    JSON.parse(readFileSync(path.join(schemas, 'teams-adaptive-card.schema.json'), 'utf8')),
  );

  function activities(change: (c: Record<string, any>) => void = () => undefined): NotificationActivities {
    const c = JSON.parse(readFileSync(path.resolve(__dirname, '../../geofailover.config.example.json'), 'utf8'));
    c.azure.caFile = 'ca.pem';
    c.people ??= peopleConfig();
    c.groups.leaderboard.commanders ??= [...COMMANDERS];
    delete c.groups.leaderboard.escalationWebhook;
    c.notifications = [
      { kind: 'json', url: { env: vars.json }, events: ['escalation', 'run-ended', 'approval-needed'] },
    ];
    c.groups.leaderboard.notifications = [
      { kind: 'slack', url: { env: vars.slack } },
      { kind: 'teams', url: { env: vars.teams }, events: ['approval-needed', 'intervention-needed'] },
    ];
    change(c);
    const config = parseConfig(JSON.stringify(c), path.join(dir, 'geofailover.config.json'));
    return createNotificationActivities({
      ...activityDependenciesFromConfig(config, { configDir: dir }),
      webUi: 'https://temporal.example.com',
    });
  }

  async function notify(acts: NotificationActivities, notification: RunbookNotification = NOTIFICATION) {
    const env = new MockActivityEnvironment({ startToCloseTimeoutMs: 30_000 }, { logger: new DefaultLogger('ERROR') });
    return (await env.run(() => acts.notify({ group: 'leaderboard', notification }))) as Awaited<
      ReturnType<NotificationActivities['notify']>
    >;
  }

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-notify-'));
    const ca = await createCertificateAuthority('geofailover notification test CA');
    const cert = await issueServerCertificate(ca, { ips: ['127.0.0.1'] });
    writeFileSync(path.join(dir, 'ca.pem'), ca.cert);
    server = createServer(cert, (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ url: req.url, body });
        handler(req, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  beforeEach(() => {
    received.length = 0;
    handler = (_req, res) => res.writeHead(200).end('ok');
    for (const [kind, name] of Object.entries(vars)) process.env[name] = `${origin}/${kind}/${SECRET}`;
  });

  after(async () => {
    for (const name of Object.values(vars)) delete process.env[name];
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sends each target its own shape, valid against the published schemas, and records every delivery', async () => {
    const { deliveries } = await notify(activities());
    assert.deepEqual(
      deliveries.map((d) => [d.kind, d.delivered, d.attempts, d.statusCode]),
      [
        ['json', true, 1, 200],
        ['slack', true, 1, 200],
        ['teams', true, 1, 200],
      ],
    );
    for (const d of deliveries) assert.equal(d.target, `env:${vars[d.kind]} → ${origin}`);
    assert.ok(!JSON.stringify(deliveries).includes(SECRET), 'the URL path never leaves the worker');
    const body = (kind: string) => JSON.parse(received.find((r) => r.url?.startsWith(`/${kind}/`))!.body);
    assert.ok(validSlack(body('slack')), ajv.errorsText(validSlack.errors));
    assert.ok(validTeams(body('teams')), ajv.errorsText(validTeams.errors));
    assert.equal(body('json').event, 'approval-needed');
    assert.deepEqual(body('json').howToAnswer, NOTIFICATION.howToAnswer);
    assert.ok(JSON.stringify(body('slack')).includes('temporal workflow signal --workflow-id'));
    // The run's page in the Web UI, from the activity's own workflow (the mock environment's).
    assert.match(
      JSON.stringify(body('slack')),
      /<https:\/\/temporal\.example\.com\/namespaces\/[^|]+\/history\|Temporal Web UI>/,
    );
    assert.match(body('json').webUi, /^https:\/\/temporal\.example\.com\/namespaces\/.+\/history$/);
  });

  it('sends an event only to the targets that take it', async () => {
    const { deliveries } = await notify(activities(), { ...NOTIFICATION, event: 'intervention-needed' });
    assert.deepEqual(deliveries.map((d) => d.kind).sort(), ['slack', 'teams']);
    assert.equal(received.length, 2);
  });

  it('retries a 503 with back-off and delivers; a 400 is not retried and is recorded as not delivered', async () => {
    let slackCalls = 0;
    handler = (req, res) => {
      if (req.url?.startsWith('/slack/')) res.writeHead(++slackCalls === 1 ? 503 : 200).end();
      else if (req.url?.startsWith('/teams/')) res.writeHead(400).end('bad card');
      else res.writeHead(204).end();
    };
    const { deliveries } = await notify(activities());
    const by = Object.fromEntries(deliveries.map((d) => [d.kind, d]));
    assert.equal(by.slack?.delivered, true);
    assert.equal(by.slack?.attempts, 2);
    assert.equal(by.teams?.delivered, false);
    assert.equal(by.teams?.attempts, 1);
    assert.equal(by.teams?.statusCode, 400);
    assert.match(by.teams?.error ?? '', /answered HTTP 400/);
    assert.equal(by.json?.delivered, true);
  });

  it('a target whose variable is missing is recorded as not delivered, never an error; an http: URL fails the start', async () => {
    delete process.env[vars.teams];
    const { deliveries } = await notify(activities());
    const teams = deliveries.find((d) => d.kind === 'teams');
    assert.equal(teams?.delivered, false);
    assert.equal(teams?.attempts, 0);
    assert.match(teams?.error ?? '', new RegExp(`env:${vars.teams}: not set`));
    process.env[vars.slack] = `http://127.0.0.1:1/slack/${SECRET}`;
    assert.throws(
      () => activities(),
      (e: unknown) =>
        e instanceof WorkerSetupError &&
        /groups\.leaderboard\.notifications\.0\.url: .*https:/.test(e.message) &&
        !e.message.includes(SECRET),
    );
  });
});
