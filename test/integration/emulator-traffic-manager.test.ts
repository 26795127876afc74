import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Emulator } from '../../src/emulator';
import { ControlApiError, ControlClient } from '../../src/emulator/main';
import { createArmHttpClient, type ArmHttpClient } from '../helpers/arm-http';
import { emulatorCredential, startTestEmulator } from '../helpers/emulator';

/*
 * Traffic Manager endpoint monitor states in the emulator (docs/ARCHITECTURE.md): enabling an endpoint shows
 * CheckingEndpoint for the emulator's checking time, then Online, or Degraded while its region is in an outage
 * or the `degrade` fault names it; a disabled endpoint shows Disabled.
 */

const SUB = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const RG = 'rg-geofailover-demo';
const TM = '2022-04-01';
const PROFILE = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Network/trafficManagerProfiles/tm-leaderboard`;
const endpointUrl = (name: string): string => `${PROFILE}/externalEndpoints/${name}?api-version=${TM}`;
const CHECKING_MS = 400;
const BIN = path.resolve(__dirname, '../../bin/geofailover.js');

interface EndpointBody {
  properties: { endpointStatus: string; endpointMonitorStatus: string };
}

describe('emulator: Traffic Manager monitor states', function () {
  this.timeout(30_000);
  let emu: Emulator;
  let arm: ArmHttpClient;
  let control: ControlClient;

  before(async () => {
    emu = await startTestEmulator({ trafficManagerCheckingMs: CHECKING_MS });
    arm = createArmHttpClient(emu.arm, emu.caPem, emulatorCredential(emu));
    control = new ControlClient(emu.control);
  });
  after(async () => emu?.close());
  afterEach(async () => {
    await emu.faults.reset();
    for (const name of ['eastus', 'westeurope', 'southeastasia']) {
      await arm.request('PATCH', endpointUrl(name), { properties: { endpointStatus: 'Enabled' } });
    }
    await sleep(CHECKING_MS + 50);
  });

  async function monitorStatus(name: string): Promise<string> {
    const r = await arm.request('GET', endpointUrl(name));
    assert.equal(r.status, 200, r.text);
    return (r.body as EndpointBody).properties.endpointMonitorStatus;
  }

  async function profileStatuses(): Promise<Record<string, string>> {
    const r = await arm.request('GET', `${PROFILE}?api-version=${TM}`);
    const body = r.body as { properties: { endpoints: ({ name: string } & EndpointBody)[] } };
    return Object.fromEntries(body.properties.endpoints.map((e) => [e.name, e.properties.endpointMonitorStatus]));
  }

  it('disabled → Disabled; enabled → CheckingEndpoint for the checking time, then Online', async () => {
    assert.equal(await monitorStatus('eastus'), 'Online', 'scenario endpoints start probed');
    const disabled = await arm.request('PATCH', endpointUrl('eastus'), { properties: { endpointStatus: 'Disabled' } });
    assert.equal((disabled.body as EndpointBody).properties.endpointMonitorStatus, 'Disabled');
    const enabled = await arm.request('PATCH', endpointUrl('eastus'), { properties: { endpointStatus: 'Enabled' } });
    assert.equal((enabled.body as EndpointBody).properties.endpointMonitorStatus, 'CheckingEndpoint');
    assert.equal(await monitorStatus('eastus'), 'CheckingEndpoint');
    assert.equal((await profileStatuses()).eastus, 'CheckingEndpoint', 'the profile GET shows it too');
    // A PATCH that leaves it enabled does not restart the check.
    await arm.request('PATCH', endpointUrl('eastus'), { properties: { weight: 2 } });
    await sleep(CHECKING_MS + 50);
    assert.equal(await monitorStatus('eastus'), 'Online');
    const state = await control.state();
    const tm = state.trafficManagerProfiles[0] as { properties: { endpoints: ({ name: string } & EndpointBody)[] } };
    assert.equal(tm.properties.endpoints.find((e) => e.name === 'eastus')?.properties.endpointMonitorStatus, 'Online');
  });

  it('degrade fault: Degraded once checked, Online after it is cleared; reset clears it', async () => {
    const answer = await control.request<{ degradedEndpoints: string[] }>('POST', '/faults/degrade', {
      endpoint: 'EastUS',
    });
    assert.deepEqual(answer.degradedEndpoints, [`${PROFILE}/externalEndpoints/eastus`]);
    assert.equal(await monitorStatus('eastus'), 'Degraded');
    assert.deepEqual((await control.faults()).degradedEndpoints, [`${PROFILE}/externalEndpoints/eastus`]);
    await arm.request('PATCH', endpointUrl('eastus'), { properties: { endpointStatus: 'Disabled' } });
    assert.equal(await monitorStatus('eastus'), 'Disabled', 'a disabled endpoint is not probed');
    await arm.request('PATCH', endpointUrl('eastus'), { properties: { endpointStatus: 'Enabled' } });
    assert.equal(await monitorStatus('eastus'), 'CheckingEndpoint');
    await sleep(CHECKING_MS + 50);
    assert.equal(await monitorStatus('eastus'), 'Degraded');
    const profile = await arm.request('GET', `${PROFILE}?api-version=${TM}`);
    const monitor = (profile.body as { properties: { monitorConfig: { profileMonitorStatus: string } } }).properties
      .monitorConfig;
    assert.equal(monitor.profileMonitorStatus, 'Degraded');
    await control.request('POST', '/faults/degrade', { endpoint: 'eastus', degraded: false });
    assert.equal(await monitorStatus('eastus'), 'Online');
    emu.faults.degrade({ endpoint: 'westeurope' });
    await control.reset();
    assert.equal(await monitorStatus('westeurope'), 'Online');
  });

  it('an endpoint whose region is in an outage is Degraded while enabled', async () => {
    await emu.faults.outage('southeastasia');
    const statuses = await profileStatuses();
    assert.deepEqual(statuses, { eastus: 'Online', westeurope: 'Online', southeastasia: 'Degraded' });
    await emu.faults.restore('southeastasia');
    assert.equal(await monitorStatus('southeastasia'), 'Online');
  });

  it('degrade refuses an endpoint no profile has, naming it', async () => {
    await assert.rejects(
      control.request('POST', '/faults/degrade', { endpoint: 'mars' }),
      (e: unknown) => e instanceof ControlApiError && e.status === 400 && /mars/.test(e.message),
    );
  });

  it('geofailover emulator degrade ENDPOINT [--clear] drives the same fault', async () => {
    const cli = (args: string[]) =>
      promisify(execFile)(process.execPath, [BIN, 'emulator', 'degrade', ...args, '--control', emu.control]);
    const on = await cli(['westeurope']);
    assert.match(on.stdout, /degraded endpoints: .*externalEndpoints\/westeurope/);
    assert.equal(await monitorStatus('westeurope'), 'Degraded');
    const off = await cli(['westeurope', '--clear']);
    assert.match(off.stdout, /degraded endpoints: none/);
    assert.equal(await monitorStatus('westeurope'), 'Online');
  });
});
