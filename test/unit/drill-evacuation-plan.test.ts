// The plan of `geofailover drill --evacuate N`: the generated estate, the failed region, usage errors before anything
// starts.
import assert from 'node:assert/strict';
import { MAX_EVACUATION_DRILL_GROUPS, planEvacuationDrill } from '../../src/drill/evacuation';
import { DrillUsageError, scenarioGroups } from '../../src/drill/scenario';
import { DRILL_METADATA_BYTES_PER_SECOND } from '../../src/drill/settings';

describe('drill --evacuate: the plan', () => {
  it('drills eastus over a generated estate of N groups, each with a member in every region', () => {
    const plan = planEvacuationDrill({ groups: 10 });
    assert.equal(plan.scenarioSource, 'estate:10');
    assert.deepEqual(plan.evacuate, { groups: 10 });
    assert.equal(plan.failedRegion, 'eastus');
    assert.equal(plan.group, 'estate-001');
    assert.equal(plan.shortOutage, false);
    const groups = scenarioGroups(plan.scenario);
    assert.equal(groups.size, 10);
    for (const members of groups.values()) assert.deepEqual(members, ['eastus', 'westeurope', 'southeastasia']);
    assert.ok(plan.scenario.metadataBuildup.bytesPerSecond >= DRILL_METADATA_BYTES_PER_SECOND);
    assert.equal(plan.scenario.trafficManagerProfiles.length, 10);
  });

  it('takes another member region with --fail-region', () => {
    assert.equal(planEvacuationDrill({ groups: 2, failRegion: 'westeurope' }).failedRegion, 'westeurope');
  });

  it('refuses a group count out of range or a region the estate lacks, naming what would do', () => {
    for (const groups of [0, -1, 1.5, MAX_EVACUATION_DRILL_GROUPS + 1]) {
      assert.throws(
        () => planEvacuationDrill({ groups }),
        (e: unknown) => {
          assert.ok(e instanceof DrillUsageError);
          assert.match(e.message, /--evacuate/);
          return true;
        },
      );
    }
    assert.throws(
      () => planEvacuationDrill({ groups: 3, failRegion: 'northeurope' }),
      (e: unknown) => e instanceof DrillUsageError && /eastus, westeurope, southeastasia/.test(e.message),
    );
  });
});
