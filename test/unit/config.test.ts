import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/load';
import { COMMANDERS, peopleConfig } from '../helpers/people';

const examplePath = path.resolve(__dirname, '../../geofailover.config.example.json');
/** The shipped example, with the test people's keys where it has none of its own. */
const example = (): Record<string, any> => {
  const c = JSON.parse(readFileSync(examplePath, 'utf8'));
  c.people ??= peopleConfig();
  for (const group of Object.values<Record<string, any>>(c.groups)) group.commanders ??= [...COMMANDERS];
  return c;
};

function refusal(mutate: (c: Record<string, any>) => void): ConfigError {
  const c = example();
  mutate(c);
  try {
    parseConfig(JSON.stringify(c), 'test.json');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e;
  }
  assert.fail('configuration was accepted');
}

describe('configuration file', () => {
  it('accepts the shipped example, which matches the default scenario', () => {
    const config = loadConfig(examplePath);
    const group = config.groups.leaderboard!;
    assert.deepEqual(Object.keys(group.members), ['eastus', 'westeurope', 'southeastasia']);
    assert.deepEqual(group.commanders, ['sre-lead']);
    assert.deepEqual(group.approvers, ['sre-lead', 'sre-manager', 'data-owner']);
    assert.deepEqual(Object.keys(config.people).sort(), ['data-owner', 'sre-lead', 'sre-manager']);
    assert.equal(group.quorum.unlink, 1);
  });

  it('names everyone who may act in `people`, with their public keys; roles name people by that name', () => {
    const config = parseConfig(JSON.stringify(example()), 'x.json');
    for (const person of Object.values(config.people)) {
      assert.ok(person.keys.length >= 1);
      assert.ok(person.keys.every((k) => k.startsWith('ssh-ed25519 ')));
    }
    const group = config.groups.leaderboard!;
    for (const name of [...group.commanders, ...group.approvers]) assert.ok(Object.hasOwn(config.people, name), name);
  });

  it('refuses a commander or approver who is not in `people`, saying to add them with their key', () => {
    const e = refusal((c) => {
      c.groups.leaderboard.commanders = ['sre-lead', 'incident-cmdr'];
      c.groups.leaderboard.approvers = ['sre-manager', 'mallory'];
    });
    assert.deepEqual(e.issues.map((i) => i.path).sort(), [
      'groups.leaderboard.approvers.1',
      'groups.leaderboard.commanders.1',
    ]);
    assert.match(e.message, /incident-cmdr is not in `people`: add them with their public key\(s\)/);
    assert.match(e.message, /mallory is not in `people`/);
  });

  it('requires people, commanders and approvers: nobody may act on a group by default', () => {
    const e = refusal((c) => {
      delete c.people;
      delete c.groups.leaderboard.commanders;
      c.groups.leaderboard.approvers = [];
    });
    const paths = e.issues.map((i) => i.path);
    for (const p of ['people', 'groups.leaderboard.commanders', 'groups.leaderboard.approvers']) {
      assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
    }
  });

  it('refuses a key that is not an OpenSSH ed25519 public key line, and a name that is not lower case', () => {
    const e = refusal((c) => {
      c.people['sre-manager'].keys = ['ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 sre-manager@example'];
    });
    assert.deepEqual(
      e.issues.map((i) => i.path),
      ['people.sre-manager.keys.0'],
    );
    assert.match(e.message, /only ssh-ed25519 keys are supported.*expected an OpenSSH ed25519 public key line/);
    // One spelling per person: statements name them exactly as the configuration does.
    const upper = refusal((c) => (c.people['Data-Owner'] = c.people['data-owner']));
    assert.deepEqual(
      upper.issues.map((i) => i.path),
      ['people.Data-Owner'],
    );
    const role = refusal((c) => c.groups.leaderboard.approvers.push('Data-Owner'));
    assert.match(role.message, /approvers\.3: expected a person's name in lower case/);
  });

  it('fills production defaults for what a group leaves out', () => {
    const c = example();
    delete c.groups.leaderboard.durations;
    delete c.groups.leaderboard.quorum;
    const group = parseConfig(JSON.stringify(c), 'x.json').groups.leaderboard!;
    assert.equal(group.durations.approvalTimeout, '30 minutes');
    assert.equal(group.quorum.rejoin, 1);
  });

  it('names the file, the field and what is expected', () => {
    const e = refusal((c) => (c.groups.leaderboard.members.eastus = '/subscriptions/x/not-a-database'));
    assert.match(e.message, /^test\.json: invalid configuration/);
    assert.deepEqual(
      e.issues.map((i) => i.path),
      ['groups.leaderboard.members.eastus'],
    );
    assert.match(e.message, /expected a database resource id/);
  });

  it('refuses a member region without a Traffic Manager endpoint or probe address', () => {
    const e = refusal((c) => {
      delete c.groups.leaderboard.trafficManager.endpoints.westeurope;
      delete c.groups.leaderboard.applicationRegions.eastus.southeastasia;
    });
    const paths = e.issues.map((i) => i.path).sort();
    assert.deepEqual(paths, [
      'groups.leaderboard.applicationRegions.eastus.southeastasia',
      'groups.leaderboard.trafficManager.endpoints.westeurope',
    ]);
  });

  it('refuses a quorum larger than the approver list and a bad duration', () => {
    const e = refusal((c) => {
      c.groups.leaderboard.quorum.unlink = 4;
      c.groups.leaderboard.durations.approvalTimeout = 'soon';
    });
    assert.match(e.message, /quorum of 4 needs at least 4 approvers/);
    assert.match(e.message, /durations\.approvalTimeout: expected a duration/);
  });

  it('refuses a single-member group', () => {
    const e = refusal((c) => {
      c.groups.leaderboard.members = { eastus: c.groups.leaderboard.members.eastus };
    });
    assert.match(e.message, /at least two members/);
  });

  it('says what to do when the file is missing or not JSON', () => {
    assert.throws(() => loadConfig(path.join(__dirname, 'no-such.json')), /no such file\. Pass --config FILE/);
    assert.throws(() => parseConfig('{', 'broken.json'), /^ConfigError: broken\.json:1:2: not valid JSON/);
  });

  it('names the line and column of a JSON syntax error', () => {
    const lines = JSON.stringify(example(), null, 2).split('\n');
    // A trailing comma after the last key of memoryThresholds: the parser stops at the next line's first character.
    const at = lines.findIndex((l) => l.includes('"criticalPercent"'));
    lines[at] += ',';
    lines.splice(at + 1, 0, '    // a comment');
    assert.throws(
      () => parseConfig(lines.join('\n'), 'geofailover.config.json'),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message.startsWith(`geofailover.config.json:${at + 2}:5: not valid JSON`) &&
        /no comments and no trailing commas/.test(e.message),
    );
    // V8 gives no position for an unexpected token; the column is still the token's.
    assert.throws(
      () => parseConfig('{\n  "azure": {},\n  "groups": maybe\n}', 'x.json'),
      /^ConfigError: x\.json:3:13: /,
    );
  });

  it('refuses a misspelt key instead of using the default, and says which key was meant', () => {
    const e = refusal((c) => {
      delete c.groups.leaderboard.quorum;
      c.groups.leaderboard.quorom = { unlink: 2, rejoin: 2, intervention: 2 };
    });
    assert.match(e.message, /unknown key "quorom" at groups\.leaderboard; did you mean "quorum"\?/);
    assert.deepEqual(
      e.issues.map((i) => i.path),
      ['groups.leaderboard.quorom'],
    );
    const nested = refusal((c) => (c.groups.leaderboard.durations.ApprovalTimeout = '1h'));
    assert.match(
      nested.message,
      /unknown key "ApprovalTimeout" at groups\.leaderboard\.durations; did you mean "approvalTimeout"\?/,
    );
  });

  it('refuses an unknown top-level key, listing the known ones when none is close', () => {
    const e = refusal((c) => (c.pagerduty = { slack: true }));
    assert.match(e.message, /unknown key "pagerduty" at the top level; expected one of: \$schema, .*azure, .*groups/);
  });

  it('keeps region and group names free: they are data, not keys of the schema', () => {
    const c = example();
    c.groups['sessions-eu'] = c.groups.leaderboard;
    c.groups.leaderboard.applicationRegions.brazilsouth = c.groups.leaderboard.applicationRegions.eastus;
    const config = parseConfig(JSON.stringify(c), 'x.json');
    assert.deepEqual(Object.keys(config.groups), ['leaderboard', 'sessions-eu']);
  });

  it('refuses a webhook URL in the configuration, saying to name an environment variable or file instead', () => {
    const url = 'https://hooks.slack.com/services/T000/B000/XXXXSECRET';
    const e = refusal((c) => (c.groups.leaderboard.escalationWebhook = url));
    assert.deepEqual(
      e.issues.map((i) => i.path),
      ['groups.leaderboard.escalationWebhook'],
    );
    assert.match(e.message, /bearer capability/);
    assert.match(e.message, /\{ "env": "GEOFAILOVER_WEBHOOK_<GROUP>" \} or \{ "file": /);
    assert.ok(!e.message.includes('XXXXSECRET'), 'the error does not repeat the URL');
    const inEnv = refusal((c) => (c.groups.leaderboard.escalationWebhook = { env: url }));
    assert.match(inEnv.message, /escalationWebhook\.env: expected the name of an environment variable/);
    const inFile = refusal((c) => (c.groups.leaderboard.escalationWebhook = { file: url }));
    assert.match(inFile.message, /escalationWebhook\.file: expected the path of a file that holds the URL/);
    const both = refusal((c) => (c.groups.leaderboard.escalationWebhook = { env: 'A', file: 'b' }));
    assert.match(both.message, /name either "env" or "file", not both/);
  });

  it('accepts a webhook named by { env } or { file }', () => {
    for (const ref of [{ env: 'GEOFAILOVER_WEBHOOK_LEADERBOARD' }, { file: 'secrets/leaderboard-webhook.url' }]) {
      const c = example();
      c.groups.leaderboard.escalationWebhook = ref;
      assert.deepEqual(parseConfig(JSON.stringify(c), 'x.json').groups.leaderboard!.escalationWebhook, ref);
    }
  });
});
