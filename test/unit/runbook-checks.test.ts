import assert from 'node:assert/strict';
import type { ProfileSnapshot } from '../../src/activities/types';
import {
  byPayloadProblem,
  decisionPayloadProblem,
  interventionPayloadProblem,
} from '../../src/workflows/runbook/handlers';
import { profileProblems, servingEndpoints } from '../../src/workflows/runbook/profile-checks';

function profile(statuses: Record<string, [string, string?]>): ProfileSnapshot {
  return {
    profileId: 'tm',
    endpoints: Object.entries(statuses).map(([name, [endpointStatus, endpointMonitorStatus]]) => ({
      name,
      type: 'externalEndpoints',
      endpointStatus,
      endpointMonitorStatus,
    })),
  };
}

describe('Traffic Manager profile checks (pure)', () => {
  it('accepts a disabled failed endpoint with a healthy one left', () => {
    const p = profile({
      eastus: ['Disabled', 'Disabled'],
      westeurope: ['Enabled', 'Online'],
      asia: ['Enabled', 'Degraded'],
    });
    assert.deepEqual(profileProblems(p, 'eastus', 'Disabled'), []);
    assert.deepEqual(servingEndpoints(p), ['westeurope']);
  });

  it('refuses a profile where nothing serves, or the endpoint did not change', () => {
    const none = profile({ eastus: ['Disabled'], westeurope: ['Enabled', 'Degraded'] });
    assert.match(profileProblems(none, 'eastus', 'Disabled').join(), /nothing would serve traffic/);
    const unchanged = profile({ eastus: ['Enabled', 'Online'], westeurope: ['Enabled', 'Online'] });
    assert.match(profileProblems(unchanged, 'eastus', 'Disabled').join(), /eastus is Enabled, expected Disabled/);
    assert.match(profileProblems(unchanged, 'northeurope', 'Enabled').join(), /no endpoint named northeurope/);
  });
});

describe('runbook message payloads (pure)', () => {
  it('decide needs a decision and a named approver', () => {
    assert.equal(decisionPayloadProblem({ decision: 'approve', approver: 'sre-lead' }, true), undefined);
    assert.match(decisionPayloadProblem({ decision: 'maybe', approver: 'sre-lead' }, true) ?? '', /decision/);
    assert.match(decisionPayloadProblem({ decision: 'approve', approver: ' ' }, true) ?? '', /approver/);
    assert.match(decisionPayloadProblem('approve', true) ?? '', /object/);
    assert.equal(decisionPayloadProblem({ approver: 'sre-lead' }, false), undefined, 'signals carry no decision');
  });

  it('abort and unlinkNow need who and why; intervene needs a known action', () => {
    assert.equal(byPayloadProblem({ by: 'sre-lead', reason: 'drill' }, true), undefined);
    assert.match(byPayloadProblem({ by: 'sre-lead' }, true) ?? '', /reason/);
    assert.equal(byPayloadProblem({ by: 'sre-lead' }, false), undefined);
    assert.equal(interventionPayloadProblem({ action: 'skip', by: 'sre-lead' }), undefined);
    assert.match(interventionPayloadProblem({ action: 'ignore', by: 'sre-lead' }) ?? '', /retry, skip or abort/);
  });
});
