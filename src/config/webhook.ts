/**
 * The escalation webhook, resolved by the worker from the reference the configuration names. The URL is a secret
 * (webhook URLs are often bearer capabilities): it never enters the configuration, workflow history, activity
 * input or results, logs or evidence. Only `target` (the reference plus scheme and host) is ever shown.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { GeofailoverConfig, NotificationTarget, WebhookReference } from './schema';
import { NOTIFICATION_EVENTS } from './schema';

/** A group's escalation webhook as the worker found it. */
export interface ResolvedWebhook {
  /** the secret: only to send to, never to log, return or record */
  url: URL;
  /** safe to show: `env:NAME → https://host` or `file:/path → https://host` */
  target: string;
}

/** A webhook reference that does not give a usable https: URL; the message never holds the URL. */
export class WebhookReferenceError extends Error {
  override name = 'WebhookReferenceError';
  constructor(
    message: string,
    /** `env:NAME` or `file:/absolute/path` */
    readonly reference: string,
    /** false when the variable or file is missing (perhaps not yet provisioned); true when it holds a bad value */
    readonly found: boolean,
  ) {
    super(message);
  }
}

/** `env:NAME` or `file:/absolute/path`: where the URL comes from, without it. */
export function describeWebhookReference(ref: WebhookReference, configDir: string): string {
  return 'env' in ref ? `env:${ref.env}` : `file:${path.resolve(configDir, ref.file)}`;
}

/** Scheme and host of a URL: all of it that may be shown. */
export function webhookOrigin(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/**
 * Reads the URL now (so a rotated variable or file takes effect at the next delivery) and checks it is https:.
 * @throws WebhookReferenceError naming the variable or file, never the URL beyond its scheme and host.
 */
export function resolveWebhook(
  ref: WebhookReference,
  configDir: string,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedWebhook {
  const reference = describeWebhookReference(ref, configDir);
  let value: string;
  if ('env' in ref) {
    value = (env[ref.env] ?? '').trim();
    if (!value) {
      throw new WebhookReferenceError(
        `${reference}: not set in the worker's environment; set ${ref.env} to the webhook's https: URL`,
        reference,
        false,
      );
    }
  } else {
    const file = path.resolve(configDir, ref.file);
    try {
      value = readFileSync(file, 'utf8').trim();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new WebhookReferenceError(
        `${reference}: cannot read it (${code}); write the webhook's https: URL into it, readable by the worker`,
        reference,
        false,
      );
    }
    if (!value) {
      throw new WebhookReferenceError(`${reference}: empty; write the webhook's https: URL into it`, reference, false);
    }
  }
  let url: URL;
  try {
    // The URL parser drops inner newlines and tabs; a value with whitespace is not one URL.
    if (/\s/.test(value)) throw new TypeError('whitespace');
    url = new URL(value);
  } catch {
    throw new WebhookReferenceError(
      `${reference}: does not hold a URL; it must hold exactly the webhook's https: URL`,
      reference,
      true,
    );
  }
  if (url.protocol !== 'https:') {
    throw new WebhookReferenceError(
      `${reference}: the escalation webhook must be an https: URL, not ${webhookOrigin(url)}; ` +
        'escalations carry incident details and the URL is a credential, so they are never sent in the clear',
      reference,
      true,
    );
  }
  return { url, target: `${reference} → ${webhookOrigin(url)}` };
}

/**
 * The worker's resolver: group name → its webhook, read at each call; undefined when the group names none.
 * @throws WebhookReferenceError when the reference does not give a usable https: URL.
 */
export function escalationWebhookResolver(
  config: GeofailoverConfig,
  configDir: string,
  env: NodeJS.ProcessEnv = process.env,
): (group: string) => ResolvedWebhook | undefined {
  return (group) => {
    const ref = Object.hasOwn(config.groups, group) ? config.groups[group]?.escalationWebhook : undefined;
    return ref ? resolveWebhook(ref, configDir, env) : undefined;
  };
}

/**
 * Checks every group's webhook that can be resolved now; a missing variable or file is left for delivery time
 * (it may be provisioned later, and each delivery reports it).
 * @throws WebhookReferenceError (with the group's field path in the message) for a value that is not https:.
 */
export function checkEscalationWebhooks(
  config: GeofailoverConfig,
  configDir: string,
  env: NodeJS.ProcessEnv = process.env,
): void {
  for (const [name, group] of Object.entries(config.groups)) {
    if (!group.escalationWebhook) continue;
    try {
      resolveWebhook(group.escalationWebhook, configDir, env);
    } catch (e) {
      if (e instanceof WebhookReferenceError && e.found) {
        throw new WebhookReferenceError(`groups.${name}.escalationWebhook: ${e.message}`, e.reference, true);
      }
      if (!(e instanceof WebhookReferenceError)) throw e;
    }
  }
}

/** A notification target of a group as the worker resolves it at each delivery. */
export interface GroupNotificationTarget {
  kind: NotificationTarget['kind'];
  /** the events this target gets */
  events: readonly (typeof NOTIFICATION_EVENTS)[number][];
  /** `env:NAME` or `file:/path`: safe to show */
  reference: string;
  /** reads the URL now; @throws WebhookReferenceError */
  resolve(): ResolvedWebhook;
}

/**
 * The worker's resolver of notification targets: group name → the global targets, then the group's own, each read
 * at delivery time (a rotated secret takes effect at the next notification). Unknown groups get the global ones.
 */
export function notificationTargetsResolver(
  config: GeofailoverConfig,
  configDir: string,
  env: NodeJS.ProcessEnv = process.env,
): (group: string) => GroupNotificationTarget[] {
  return (group) => {
    const own = Object.hasOwn(config.groups, group) ? (config.groups[group]?.notifications ?? []) : [];
    return [...(config.notifications ?? []), ...own].map((t) => ({
      kind: t.kind,
      events: t.events ?? NOTIFICATION_EVENTS,
      reference: describeWebhookReference(t.url, configDir),
      resolve: () => resolveWebhook(t.url, configDir, env),
    }));
  };
}

/**
 * Checks every notification target that can be resolved now, as {@link checkEscalationWebhooks} does.
 * @throws WebhookReferenceError (with the field path in the message) for a value that is not an https: URL.
 */
export function checkNotificationTargets(
  config: GeofailoverConfig,
  configDir: string,
  env: NodeJS.ProcessEnv = process.env,
): void {
  const lists: [string, NotificationTarget[] | undefined][] = [
    ['notifications', config.notifications],
    ...Object.entries(config.groups).map(([name, g]): [string, NotificationTarget[] | undefined] => [
      `groups.${name}.notifications`,
      g.notifications,
    ]),
  ];
  for (const [where, targets] of lists) {
    (targets ?? []).forEach((t, i) => {
      try {
        resolveWebhook(t.url, configDir, env);
      } catch (e) {
        if (e instanceof WebhookReferenceError && e.found) {
          throw new WebhookReferenceError(`${where}.${i}.url: ${e.message}`, e.reference, true);
        }
        if (!(e instanceof WebhookReferenceError)) throw e;
      }
    });
  }
}
