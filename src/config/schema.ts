import { msToNumber } from '@temporalio/common/lib/time';
import { z } from 'zod';

/** An ms-style duration ('30 minutes', '5s') or milliseconds, as Temporal accepts them. */
const duration = z.union([z.number().int().nonnegative(), z.string()]).refine(
  (value) => {
    try {
      return msToNumber(value as never) >= 0;
    } catch {
      return false;
    }
  },
  { message: "expected a duration such as '30s', '15 minutes', '4h' or a number of milliseconds" },
);

const region = z.string().regex(/^[a-z][a-z0-9]{1,39}$/, 'expected an Azure region name such as eastus');

const DATABASE_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Cache\/redisEnterprise\/[A-Za-z0-9-]{1,60}\/databases\/[A-Za-z0-9-]{1,60}$/i;
const databaseId = z
  .string()
  .regex(
    DATABASE_ID,
    'expected a database resource id: /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Cache/redisEnterprise/CLUSTER/databases/default',
  );

const PROFILE_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/trafficManagerProfiles\/[^/]+$/i;
const profileId = z
  .string()
  .regex(
    PROFILE_ID,
    'expected a Traffic Manager profile id: /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Network/trafficManagerProfiles/NAME',
  );

const address = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'expected HOST:PORT, the address the region reaches the database at');

const endpointRef = z.object({
  type: z.enum(['ExternalEndpoints', 'AzureEndpoints', 'NestedEndpoints']).default('ExternalEndpoints'),
  name: z.string().min(1),
});

const percent = z.number().min(0).max(100);

export const groupSchema = z
  .object({
    members: z
      .record(region, databaseId)
      .refine((m) => Object.keys(m).length >= 2, { message: 'a geo-replication group needs at least two members' })
      .refine((m) => Object.keys(m).length <= 5, { message: 'a geo-replication group has at most five members' })
      .describe('region → database resource id of the group member in that region'),
    trafficManager: z.object({
      profileId,
      endpoints: z.record(region, endpointRef).describe('member region → the Traffic Manager endpoint serving it'),
    }),
    applicationRegions: z
      .record(region, z.record(region, address))
      .refine((m) => Object.keys(m).length >= 1, { message: 'name at least one application region to probe from' })
      .describe('application region → (member region → address its probes use: the private endpoint)'),
    approvers: z.array(z.string().min(1)).min(1).describe('identities allowed to approve gates'),
    quorum: z
      .object({
        unlink: z.number().int().min(1).default(1),
        rejoin: z.number().int().min(1).default(1),
        intervention: z.number().int().min(1).default(1),
      })
      .prefault({}),
    memoryThresholds: z
      .object({ elevatedPercent: percent.default(70), criticalPercent: percent.default(85) })
      .prefault({})
      .refine((t) => t.elevatedPercent < t.criticalPercent, {
        message: 'elevatedPercent must be below criticalPercent',
      }),
    rejoinMethod: z.enum(['force-link', 'recreate']).default('force-link'),
    escalationWebhook: z.url().optional(),
    durations: z
      .object({
        approvalTimeout: duration.default('30 minutes'),
        escalationTimeout: duration.default('15 minutes'),
        recoveryPollInterval: duration.default('1 minute'),
        maxOutageBeforeUnlink: duration.default('4 hours'),
        resyncTimeout: duration.default('30 minutes'),
        probeTimeout: duration.default('5 seconds'),
      })
      .prefault({}),
  })
  .superRefine((group, ctx) => {
    const members = Object.keys(group.members);
    for (const r of members) {
      if (!group.trafficManager.endpoints[r]) {
        ctx.addIssue({
          code: 'custom',
          path: ['trafficManager', 'endpoints', r],
          message: `member region ${r} has no Traffic Manager endpoint`,
        });
      }
    }
    for (const [appRegion, addresses] of Object.entries(group.applicationRegions)) {
      for (const r of members) {
        if (!addresses[r]) {
          ctx.addIssue({
            code: 'custom',
            path: ['applicationRegions', appRegion, r],
            message: `application region ${appRegion} names no address for the member in ${r}`,
          });
        }
      }
    }
    const max = Math.max(group.quorum.unlink, group.quorum.rejoin, group.quorum.intervention);
    if (max > group.approvers.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['quorum'],
        message: `a quorum of ${max} needs at least ${max} approvers; ${group.approvers.length} listed`,
      });
    }
  });

export const configSchema = z.object({
  $schema: z.string().optional(),
  azure: z
    .object({
      subscriptionId: z.string().min(1).optional().describe('defaults to the subscription in the resource ids'),
      endpoint: z.url().default('https://management.azure.com'),
      caFile: z.string().optional().describe('extra CA to trust (the emulator prints its own)'),
      redisApiVersion: z.string().default('2026-08-01'),
    })
    .prefault({}),
  groups: z
    .record(
      z.string().regex(/^[A-Za-z0-9-]{1,63}$/, 'expected a group name of letters, digits and dashes'),
      groupSchema,
    )
    .refine((g) => Object.keys(g).length >= 1, { message: 'define at least one group' }),
});

export type GroupConfig = z.output<typeof groupSchema>;
export type GeofailoverConfig = z.output<typeof configSchema>;
