import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/load';

const examplePath = path.resolve(__dirname, '../../geofailover.config.example.json');
const example = (): Record<string, any> => JSON.parse(readFileSync(examplePath, 'utf8'));

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
    assert.deepEqual(group.approvers, ['sre-lead', 'sre-manager', 'data-owner']);
    assert.equal(group.quorum.unlink, 1);
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
    assert.throws(() => parseConfig('{', 'broken.json'), /^ConfigError: broken\.json: not valid JSON/);
  });
});
