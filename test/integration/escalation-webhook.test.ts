// The escalation activity as the worker builds it from its configuration (webhook named by reference, extra CA
// from azure.caFile), run in a MockActivityEnvironment against real HTTPS servers on 127.0.0.1.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { createNotificationActivities } from '../../src/activities/notification';
import type { NotificationActivities } from '../../src/activities/types';
import { parseConfig } from '../../src/config/load';
import { createCertificateAuthority, issueServerCertificate } from '../../src/emulator/certificates';
import { activityDependenciesFromConfig, WorkerSetupError } from '../../src/worker';
import { COMMANDERS, peopleConfig } from '../helpers/people';

// Parts of the URL that must never leave the worker's memory: path, query, credentials.
const PATH_SECRET = 'T0PATHSECRET';
const QUERY_SECRET = 'Q0QUERYSECRET';
const USER_SECRET = 'U0USERSECRET';
const PASSWORD_SECRET = 'P0PASSWORDSECRET';
const SECRETS = [PATH_SECRET, QUERY_SECRET, USER_SECRET, PASSWORD_SECRET];

const ENV_VAR = `GEOFAILOVER_TEST_WEBHOOK_${process.pid}`;
const BODY = { gate: 'approval-unlink', group: 'leaderboard', howToAnswer: ['geofailover approve leaderboard'] };

type Delivery = Awaited<ReturnType<NotificationActivities['notifyEscalation']>>;
type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

interface TestServer {
  server: Server;
  origin: string;
  requests: { method?: string; url?: string; body: string }[];
  handler: Handler;
}

async function listen(server: Server, scheme: 'http' | 'https'): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function startServer(scheme: 'http' | 'https', tls?: { key: string; cert: string }): Promise<TestServer> {
  const noContent: Handler = (_req, res) => res.writeHead(204).end();
  const t = { requests: [], handler: noContent } as unknown as TestServer;
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      t.requests.push({ method: req.method, url: req.url, body });
      t.handler(req, res, body);
    });
  };
  t.server = scheme === 'https' ? createHttpsServer(tls ?? {}, onRequest) : createHttpServer(onRequest);
  t.origin = await listen(t.server, scheme);
  return t;
}

async function stop(t: TestServer | undefined): Promise<void> {
  if (!t) return;
  (t.server as unknown as { closeAllConnections(): void }).closeAllConnections();
  await new Promise((resolve) => t.server.close(resolve));
}

/** The webhook URL with a secret in every part that is not scheme or host. */
function secretUrl(origin: string): string {
  const u = new URL(`${origin}/services/${PATH_SECRET}/hook?token=${QUERY_SECRET}`);
  u.username = USER_SECRET;
  u.password = PASSWORD_SECRET;
  return u.href;
}

describe('escalation webhook delivery (real HTTPS, worker wiring)', function () {
  this.timeout(10_000);

  let dir: string;
  let hook: TestServer;
  let elsewhere: TestServer;
  let plain: TestServer;
  const entries: LogEntry[] = [];
  const results: unknown[] = [];

  /** The worker's activities for a configuration whose group `leaderboard` names the webhook by ENV_VAR. */
  function activities(webhookTimeoutMs?: number) {
    const example = JSON.parse(readFileSync(path.resolve(__dirname, '../../geofailover.config.example.json'), 'utf8'));
    example.azure.caFile = 'ca.pem';
    example.people ??= peopleConfig();
    example.groups.leaderboard.commanders ??= [...COMMANDERS];
    example.groups.leaderboard.escalationWebhook = { env: ENV_VAR };
    example.groups.filed = { ...example.groups.leaderboard, escalationWebhook: { file: 'secrets/hook.url' } };
    example.groups.silent = { ...example.groups.leaderboard };
    delete example.groups.silent.escalationWebhook;
    const config = parseConfig(JSON.stringify(example), path.join(dir, 'geofailover.config.json'));
    const deps = activityDependenciesFromConfig(config, { configDir: dir });
    return createNotificationActivities({ ...deps, ...(webhookTimeoutMs ? { webhookTimeoutMs } : {}) });
  }

  async function notify(group = 'leaderboard', webhookTimeoutMs?: number) {
    const logger = new DefaultLogger('DEBUG', (e) => entries.push(e));
    const env = new MockActivityEnvironment({ startToCloseTimeoutMs: 30_000 }, { logger });
    const result = (await env.run(() =>
      activities(webhookTimeoutMs).notifyEscalation({ group, body: BODY }),
    )) as Delivery;
    results.push(result);
    return result;
  }

  function assertNoSecret(what: unknown): void {
    const text = JSON.stringify(what);
    for (const s of SECRETS) assert.ok(!text.includes(s), `${s} leaked into ${text}`);
    assert.ok(!text.includes('/services/'), `the URL path leaked into ${text}`);
  }

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-webhook-'));
    const ca = await createCertificateAuthority('geofailover webhook test CA');
    const cert = await issueServerCertificate(ca, { ips: ['127.0.0.1'] });
    writeFileSync(path.join(dir, 'ca.pem'), ca.cert);
    [hook, elsewhere, plain] = await Promise.all([
      startServer('https', cert),
      startServer('https', cert),
      startServer('http'),
    ]);
  });

  beforeEach(() => {
    for (const t of [hook, elsewhere, plain]) {
      t.requests.length = 0;
      t.handler = (_req, res) => res.writeHead(204).end();
    }
    process.env[ENV_VAR] = secretUrl(hook.origin);
  });

  after(async () => {
    delete process.env[ENV_VAR];
    await Promise.all([stop(hook), stop(elsewhere), stop(plain)]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('delivers the JSON body on 200, trusting the worker’s extra CA, and names the target without its secret', async () => {
    hook.handler = (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    const r = await notify();
    assert.deepEqual(r, {
      delivered: true,
      attempts: 1,
      statusCode: 200,
      target: `env:${ENV_VAR} → ${hook.origin}`,
    });
    assert.equal(hook.requests.length, 1);
    assert.equal(hook.requests[0]!.method, 'POST');
    assert.deepEqual(JSON.parse(hook.requests[0]!.body), BODY);
  });

  it('reads a { file } reference relative to the configuration, trimmed', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.join(dir, 'secrets'), { recursive: true });
    writeFileSync(path.join(dir, 'secrets', 'hook.url'), `  ${secretUrl(hook.origin)}\n`);
    const r = await notify('filed');
    assert.equal(r.delivered, true);
    assert.equal(r.target, `file:${path.join(dir, 'secrets', 'hook.url')} → ${hook.origin}`);
    assert.equal(hook.requests.length, 1);
  });

  it('refuses an http: URL without sending anything: at worker start and at delivery', async () => {
    process.env[ENV_VAR] = secretUrl(plain.origin);
    assert.throws(
      () => activities(),
      (e: unknown) => {
        assert.ok(e instanceof WorkerSetupError);
        assert.match(e.message, new RegExp(`groups\\.leaderboard\\.escalationWebhook: env:${ENV_VAR}: .*https:`));
        assertNoSecret(e.message);
        return true;
      },
    );
    // Set after the worker started: each delivery checks again.
    delete process.env[ENV_VAR];
    const acts = activities();
    process.env[ENV_VAR] = secretUrl(plain.origin);
    const logger = new DefaultLogger('DEBUG', (e) => entries.push(e));
    const env = new MockActivityEnvironment({ startToCloseTimeoutMs: 30_000 }, { logger });
    const r = (await env.run(() => acts.notifyEscalation({ group: 'leaderboard', body: BODY }))) as Delivery;
    results.push(r);
    assert.equal(r.delivered, false);
    assert.equal(r.attempts, 0);
    assert.match(r.error ?? '', new RegExp(`env:${ENV_VAR}: the escalation webhook must be an https: URL`));
    assert.equal(plain.requests.length, 0, 'no request was made');
  });

  it('does not follow a redirect (its target gets no request) and reports it not delivered', async () => {
    hook.handler = (_req, res) => res.writeHead(302, { location: `${elsewhere.origin}/stolen` }).end();
    const r = await notify();
    assert.equal(r.delivered, false);
    assert.equal(r.statusCode, 302);
    assert.equal(r.attempts, 1, 'a redirect is not retried');
    assert.match(r.error ?? '', /not delivered: redirect refused/);
    assert.equal(elsewhere.requests.length, 0);
  });

  it('retries a 500 and delivers on attempt 2; does not retry a 404', async () => {
    let n = 0;
    hook.handler = (_req, res) => res.writeHead(++n === 1 ? 500 : 200).end();
    const r = await notify();
    assert.equal(r.delivered, true);
    assert.equal(r.attempts, 2);
    assert.equal(hook.requests.length, 2);

    hook.requests.length = 0;
    hook.handler = (_req, res) => res.writeHead(404).end();
    const gone = await notify();
    assert.equal(gone.delivered, false);
    assert.equal(gone.attempts, 1);
    assert.equal(gone.statusCode, 404);
  });

  it('reads at most 64 KiB of a huge answer: returns quickly, and the server never gets to send it all', async () => {
    const total = 50 * 1024 * 1024;
    let sent = 0;
    let finished = false;
    hook.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
      const chunk = Buffer.alloc(64 * 1024, 120);
      const pump = (): void => {
        while (sent < total) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        finished = true;
        res.end();
      };
      res.on('error', () => undefined);
      pump();
    };
    const started = Date.now();
    const r = await notify();
    assert.equal(r.delivered, true);
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
    assert.equal(finished, false, `the server finished sending (${sent} bytes)`);
  });

  it('a hanging webhook is bounded by the per-attempt timeout, retried, and reported without throwing', async () => {
    hook.handler = () => undefined; // never answers
    const started = Date.now();
    const r = await notify('leaderboard', 300);
    assert.equal(r.delivered, false);
    assert.equal(r.attempts, 3);
    assert.match(r.error ?? '', /no answer within 300 ms/);
    assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
  });

  it('says so (and logs the escalation) when the group names no webhook or its variable is not set', async () => {
    const none = await notify('silent');
    assert.deepEqual(none, {
      delivered: false,
      attempts: 0,
      error: 'no escalation webhook configured for group silent',
    });
    assert.ok(
      entries.some((e) => /no escalation webhook configured for group silent/.test(e.message) && e.meta?.escalation),
      'logged with the escalation',
    );
    delete process.env[ENV_VAR];
    const unset = await notify();
    assert.equal(unset.delivered, false);
    assert.match(unset.error ?? '', new RegExp(`env:${ENV_VAR}: not set in the worker's environment`));
  });

  it('never shows the URL’s path, query or credentials: not in any result, not in any log line', () => {
    assert.ok(results.length >= 8 && entries.length >= 8);
    for (const r of results) assertNoSecret(r);
    for (const e of entries) assertNoSecret({ message: e.message, meta: e.meta });
  });
});
