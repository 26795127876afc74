import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import type { configSchema, groupSchema } from '../config/schema';
import type { IdentityEndpoint } from './identity';
import type { EmulatorState } from './index';

type ConfigInput = z.input<typeof configSchema>;
type GroupInput = z.input<typeof groupSchema>;

/** The default scenario's people: sre-lead commands incidents; all three approve (never their own). */
export const DEFAULT_APPROVERS = ['sre-lead', 'sre-manager', 'data-owner'];
export const DEFAULT_COMMANDERS = ['sre-lead'];

interface ProfileView {
  id: string;
  properties: {
    endpoints: { name: string; type: string; properties: { endpointLocation?: string; target?: string } }[];
  };
}

/**
 * The geofailover configuration for a running emulator: one group per geo-replication group in the
 * scenario, at the emulator's actual (dynamic) private-endpoint addresses, trusting its CA. This is how
 * drills, tests and the README examples get a configuration that matches what the emulator serves.
 * Durations and thresholds are the production defaults; callers adjust the returned object.
 */
export function configForEmulator(
  state: EmulatorState,
  caPath: string,
  /** person → OpenSSH public key lines, for every default person */
  people: Record<string, string[]>,
  /** the emulator's tenant and the file its client secret was written to ({@link writeIdentitySecret}) */
  identity?: { endpoint: IdentityEndpoint; secretFile: string },
): ConfigInput {
  const groups: Record<string, GroupInput> = {};
  const profiles = state.trafficManagerProfiles as ProfileView[];
  const nicknames = [...new Set(state.databases.flatMap((d) => (d.groupNickname ? [d.groupNickname] : [])))];
  for (const nickname of nicknames) {
    const members = state.databases.filter((d) => d.groupNickname === nickname);
    const regions = new Set(members.map((d) => d.location));
    // The profile that routes to this group: the one with an endpoint per member region, preferring one whose
    // targets name the group's clusters (in an estate every profile has an endpoint per region).
    const covers = (p: ProfileView): boolean =>
      [...regions].every((r) => p.properties.endpoints.some((e) => (e.properties.endpointLocation ?? e.name) === r));
    const clusterNames = new Set(members.map((d) => d.clusterName.toLowerCase()));
    const targetsGroup = (p: ProfileView): boolean =>
      p.properties.endpoints.some((e) => clusterNames.has((e.properties.target ?? '').split('.')[0]!.toLowerCase()));
    const profile = profiles.find((p) => covers(p) && targetsGroup(p)) ?? profiles.find(covers);
    if (!profile) continue;
    const endpoints = Object.fromEntries(
      profile.properties.endpoints
        .filter((e) => regions.has(e.properties.endpointLocation ?? e.name))
        .map((e) => [e.properties.endpointLocation ?? e.name, { type: endpointType(e.type), name: e.name }]),
    );
    const applicationRegions: Record<string, Record<string, string>> = {};
    for (const pe of state.privateEndpoints) {
      const member = members.find((d) => d.id.toLowerCase() === pe.databaseId.toLowerCase());
      if (!member) continue;
      (applicationRegions[pe.applicationRegion] ??= {})[member.location] = `${pe.address.host}:${pe.address.port}`;
    }
    groups[nickname] = {
      members: Object.fromEntries(members.map((d) => [d.location, d.id])),
      trafficManager: { profileId: profile.id, endpoints },
      applicationRegions,
      commanders: [...DEFAULT_COMMANDERS],
      approvers: [...DEFAULT_APPROVERS],
      quorum: { unlink: 1, rejoin: 1, intervention: 1 },
    };
  }
  return {
    // The emulator answers Azure Monitor's batch API on its ARM port: memory pressure from its metrics.
    azure: {
      subscriptionId: state.subscriptionId,
      endpoint: state.arm,
      caFile: caPath,
      metricsEndpoint: state.arm,
      // The worker authenticates as the emulator's principal; the secret stays in its own file.
      ...(identity
        ? {
            identity: {
              authorityHost: identity.endpoint.authorityHost,
              tenantId: identity.endpoint.tenantId,
              clientId: identity.endpoint.clientId,
              clientSecret: { file: identity.secretFile },
            },
          }
        : {}),
    },
    people: Object.fromEntries(Object.entries(people).map(([name, keys]) => [name, { keys: [...keys] }])),
    groups,
  };
}

function endpointType(type: string): 'ExternalEndpoints' | 'AzureEndpoints' | 'NestedEndpoints' {
  const last = type.split('/').pop()?.toLowerCase();
  if (last === 'azureendpoints') return 'AzureEndpoints';
  if (last === 'nestedendpoints') return 'NestedEndpoints';
  return 'ExternalEndpoints';
}

/** The file name of the client secret beside a configuration file. */
export function identitySecretFileFor(configFile: string): string {
  const resolved = path.resolve(configFile);
  return path.join(path.dirname(resolved), `${path.basename(resolved, '.json')}.client-secret`);
}

/**
 * Writes the emulator's (test-only) client secret beside `configFile`, readable by its owner only (mode 600),
 * and returns what {@link configForEmulator} takes as `identity`.
 */
export function writeIdentitySecret(
  endpoint: IdentityEndpoint,
  configFile: string,
): { endpoint: IdentityEndpoint; secretFile: string } {
  const secretFile = identitySecretFileFor(configFile);
  writeFileSync(secretFile, `${endpoint.clientSecret}\n`, { mode: 0o600 });
  chmodSync(secretFile, 0o600);
  return { endpoint, secretFile };
}
