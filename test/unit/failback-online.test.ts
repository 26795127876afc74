import assert from 'node:assert/strict';
import type { ProfileSnapshot } from '../../src/activities/types';
import { enabledEndpointVerdict } from '../../src/workflows/runbook/profile-checks';
import { inputProblems } from '../../src/workflows/runbook/validate-input';

function profile(endpointStatus: string, endpointMonitorStatus?: string): ProfileSnapshot {
  return {
    profileId: 'tm',
    endpoints: [
      { name: 'eastus', type: 'ExternalEndpoints', endpointStatus, endpointMonitorStatus },
      { name: 'westeurope', type: 'ExternalEndpoints', endpointStatus: 'Enabled', endpointMonitorStatus: 'Online' },
    ],
  };
}

describe('traffic-failback: where a re-enabled endpoint stands (pure)', () => {
  it('Online and Unmonitored serve; CheckingEndpoint or no monitor status yet means wait', () => {
    assert.equal(enabledEndpointVerdict(profile('Enabled', 'Online'), 'EastUS').kind, 'online');
    assert.equal(enabledEndpointVerdict(profile('Enabled', 'Unmonitored'), 'eastus').kind, 'online');
    assert.equal(enabledEndpointVerdict(profile('Enabled', 'CheckingEndpoint'), 'eastus').kind, 'checking');
    assert.equal(enabledEndpointVerdict(profile('Enabled'), 'eastus').kind, 'checking');
  });

  it('Degraded, Stopped, Inactive, a disabled or missing endpoint do not serve, and say why', () => {
    const degraded = enabledEndpointVerdict(profile('Enabled', 'Degraded'), 'eastus');
    assert.equal(degraded.kind, 'unhealthy');
    assert.match(
      degraded.kind === 'unhealthy' ? degraded.problem : '',
      /eastus is Degraded: Traffic Manager's health probes of it fail/,
    );
    for (const monitor of ['Stopped', 'Inactive']) {
      assert.equal(enabledEndpointVerdict(profile('Enabled', monitor), 'eastus').kind, 'unhealthy', monitor);
    }
    const disabled = enabledEndpointVerdict(profile('Disabled', 'Disabled'), 'eastus');
    assert.match(disabled.kind === 'unhealthy' ? disabled.problem : '', /is Disabled, expected Enabled/);
    const missing = enabledEndpointVerdict(profile('Enabled', 'Online'), 'southeastasia');
    assert.match(missing.kind === 'unhealthy' ? missing.problem : '', /no endpoint named southeastasia/);
  });

  it('tuning.failbackOnlineTimeout is a duration the input accepts, and a bad one is refused', () => {
    const input = (tuning: unknown): unknown => ({
      group: 'leaderboard',
      failedRegion: 'eastus',
      reason: 'drill',
      request: { statement: 's', signature: 'x' },
      tuning,
    });
    const problems = (tuning: unknown): string[] =>
      inputProblems('failover', input(tuning)).filter((p) => p.includes('tuning'));
    assert.deepEqual(problems({ failbackOnlineTimeout: '30s' }), []);
    assert.match(problems({ failbackOnlineTimeout: 'soon' }).join('; '), /tuning.failbackOnlineTimeout/);
  });
});
