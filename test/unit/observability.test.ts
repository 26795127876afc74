// The worker's observability settings (flags over the configuration over OTEL_* and defaults), its JSON log lines,
// and the configuration's observability and notifications sections.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, parseConfig } from '../../src/config/load';
import { notificationTargetsResolver } from '../../src/config/webhook';
import { jsonLogLine } from '../../src/observability/logging';
import { needsRuntime, observabilitySettings } from '../../src/observability/telemetry';
import { COMMANDERS, peopleConfig } from '../helpers/people';

function config(change: (c: Record<string, any>) => void = () => undefined) {
  const c = JSON.parse(readFileSync(path.resolve(__dirname, '../../geofailover.config.example.json'), 'utf8'));
  c.people ??= peopleConfig();
  c.groups.leaderboard.commanders ??= [...COMMANDERS];
  change(c);
  return parseConfig(JSON.stringify(c), '/etc/geofailover/geofailover.config.json');
}

describe('observability settings', () => {
  it('defaults: text at INFO, no metrics, no traces, nothing to install', () => {
    const s = observabilitySettings(config().observability, {}, {});
    assert.deepEqual(s, { logLevel: 'INFO', logFormat: 'text' });
    assert.equal(needsRuntime(s), false);
  });

  it('the configuration sets them, the flags override it', () => {
    const c = config((c) => {
      c.observability = { logLevel: 'WARN', logFormat: 'json', metrics: { port: 9464 }, tracing: {} };
    });
    assert.deepEqual(observabilitySettings(c.observability, {}, {}), {
      logLevel: 'WARN',
      logFormat: 'json',
      metrics: { host: '0.0.0.0', port: 9464 },
      tracing: { serviceName: 'geofailover' },
    });
    const flagged = observabilitySettings(
      c.observability,
      { logLevel: 'DEBUG', logFormat: 'text', metricsPort: 9000 },
      {},
    );
    assert.equal(flagged.logLevel, 'DEBUG');
    assert.equal(flagged.logFormat, 'text');
    assert.deepEqual(flagged.metrics, { host: '0.0.0.0', port: 9000 });
    assert.equal(needsRuntime(flagged), true);
  });

  it('traces are on with the standard OTLP variables alone, off without', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SERVICE_NAME: 'geofailover-eu' };
    assert.deepEqual(observabilitySettings(undefined, {}, env).tracing, { serviceName: 'geofailover-eu' });
    assert.equal(observabilitySettings(undefined, {}, {}).tracing, undefined);
    const endpoint = 'http://collector:4318/v1/traces';
    const c = config((c) => (c.observability = { tracing: { endpoint } }));
    assert.deepEqual(observabilitySettings(c.observability, {}, {}).tracing, { serviceName: 'geofailover', endpoint });
  });

  it('a misspelt key is refused with the key it meant', () => {
    assert.throws(
      () => config((c) => (c.observability = { logLevle: 'INFO' })),
      (e: unknown) => e instanceof ConfigError && /did you mean "logLevel"/.test(e.message),
    );
  });
});

describe('JSON log lines', () => {
  it('one object per line: ISO time, level, message and the attributes, bigints and errors kept', () => {
    const line = jsonLogLine({
      level: 'WARN',
      message: 'escalation not delivered',
      timestampNanos: 1_777_629_600_123_000_000n,
      meta: { workflowId: 'failover/leaderboard', attempt: 2n, error: new Error('boom') },
    });
    const entry = JSON.parse(line);
    assert.equal(entry.time, '2026-05-01T10:00:00.123Z');
    assert.equal(entry.level, 'warn');
    assert.equal(entry.message, 'escalation not delivered');
    assert.equal(entry.workflowId, 'failover/leaderboard');
    assert.equal(entry.attempt, '2');
    assert.equal(entry.error.message, 'boom');
    assert.ok(!line.includes('\n'));
  });
});

describe('notification targets in the configuration', () => {
  it('global targets first, then the group’s own; events default to all; the URL is only a reference', () => {
    const c = config((c) => {
      c.notifications = [{ kind: 'json', url: { env: 'GEOFAILOVER_EVENTS' }, events: ['run-ended'] }];
      c.groups.leaderboard.notifications = [{ kind: 'slack', url: { file: 'secrets/slack.url' } }];
    });
    const targets = notificationTargetsResolver(c, '/etc/geofailover', {})('leaderboard');
    assert.deepEqual(
      targets.map((t) => [t.kind, t.reference, t.events]),
      [
        ['json', 'env:GEOFAILOVER_EVENTS', ['run-ended']],
        [
          'slack',
          'file:/etc/geofailover/secrets/slack.url',
          ['approval-needed', 'intervention-needed', 'escalation', 'run-ended', 'rehearsal-started'],
        ],
      ],
    );
    assert.deepEqual(
      notificationTargetsResolver(c, '/etc/geofailover', {})('other').map((t) => t.kind),
      ['json'],
      'a group without its own gets the global ones',
    );
  });

  it('refuses a URL written into the configuration, an unknown kind or event', () => {
    const refused = (targets: unknown): string => {
      try {
        config((c) => (c.groups.leaderboard.notifications = targets));
      } catch (e) {
        assert.ok(e instanceof ConfigError);
        return e.message;
      }
      return assert.fail('accepted');
    };
    assert.match(
      refused([{ kind: 'slack', url: 'https://hooks.slack.com/services/T/B/X' }]),
      /does not belong in the configuration/,
    );
    assert.match(refused([{ kind: 'discord', url: { env: 'X' } }]), /slack|teams|json/);
    assert.match(refused([{ kind: 'teams', url: { env: 'X' }, events: ['approved'] }]), /approval-needed/);
  });
});
