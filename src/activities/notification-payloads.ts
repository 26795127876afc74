/**
 * A runbook notification in the shape each receiver expects: a Slack message with Block Kit blocks (incoming
 * webhook), a Microsoft Teams message carrying an Adaptive Card 1.5 (Workflows or incoming webhook), or the
 * notification itself as generic JSON. Pure: the activity POSTs what these return.
 */
import type { RunbookNotification } from './types';

/** Slack's limits (Block Kit reference): a message may carry 50 blocks; these are per element. */
const SLACK = { header: 150, sectionText: 3000, field: 2000, fields: 10, contextElements: 10, fallback: 4000 };

/** Cuts `text` to `max` characters, marking the cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Slack mrkdwn treats &, < and > as control characters; everything else is shown as written. */
function mrkdwnEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function emoji(n: RunbookNotification): string {
  if (n.event === 'run-ended') return n.outcome === 'completed' ? ':white_check_mark:' : ':octagonal_sign:';
  if (n.event === 'rehearsal-started') return ':calendar:';
  return n.event === 'escalation' ? ':rotating_light:' : ':raised_hand:';
}

/** The facts every receiver shows: workflow, group, region, gate and the evidence. */
function facts(n: RunbookNotification): { label: string; value: string }[] {
  const out = [
    { label: 'Group', value: n.group },
    { label: 'Region', value: n.region },
    { label: 'Workflow', value: n.workflowId },
  ];
  if (n.mode) out.push({ label: 'Kind', value: n.mode === 'rehearsal' ? 'rehearsal (not an outage)' : n.mode });
  if (n.schedule) {
    out.push({ label: 'Schedule', value: n.schedule.scheduleId });
    out.push({ label: 'Standing order', value: `${n.schedule.orderedBy}, until ${n.schedule.orderExpiresAt}` });
  }
  if (n.gate) {
    out.push({ label: 'Gate', value: `${n.gate.name} (${n.gate.kind}, step ${n.gate.step})` });
    out.push({ label: 'Waiting for', value: n.gate.waitingFor });
    if (n.gate.expiresAt) out.push({ label: 'Stops safely at', value: n.gate.expiresAt });
  }
  if (n.outcome) out.push({ label: 'Outcome', value: n.outcome });
  if (n.rtoMs !== undefined) out.push({ label: 'RTO', value: `${(n.rtoMs / 1000).toFixed(1)} s` });
  return [...out, ...n.evidence];
}

/** A Slack message (chat.postMessage / incoming webhook body) with Block Kit blocks and a plain-text fallback. */
export function slackMessage(n: RunbookNotification, link?: string): Record<string, unknown> {
  const all = facts(n);
  const shown = all.slice(0, SLACK.fields);
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(n.title, SLACK.header), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: clip(`${emoji(n)} ${mrkdwnEscape(n.text)}`, SLACK.sectionText) } },
    {
      type: 'section',
      fields: shown.map((f) => ({
        type: 'mrkdwn',
        text: clip(`*${mrkdwnEscape(f.label)}*\n${mrkdwnEscape(f.value)}`, SLACK.field),
      })),
    },
  ];
  if (all.length > shown.length) {
    const rest = all
      .slice(SLACK.fields)
      .map((f) => `*${mrkdwnEscape(f.label)}*: ${mrkdwnEscape(f.value)}`)
      .join('\n');
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(rest, SLACK.sectionText) } });
  }
  if (n.howToAnswer.length) {
    const commands = n.howToAnswer.map(mrkdwnEscape).join('\n');
    // The fence must survive the cut, so the budget leaves room for it.
    const body = clip(commands, SLACK.sectionText - 40);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Answer with*\n\`\`\`${body}\`\`\`` } });
  }
  const footer = mrkdwnEscape(`geofailover · ${n.event} · ${n.at}`);
  // A link's URL goes between < and | unescaped but for its own control characters; the label is ours.
  const ui = link ? ` · <${link.replaceAll('|', '%7C').replaceAll('>', '%3E')}|Temporal Web UI>` : '';
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(`${footer}${ui}`, SLACK.field) }] });
  return { text: clip(`${n.title}: ${n.text}`, SLACK.fallback), blocks };
}

/** The Adaptive Card 1.5 a Teams message carries. */
export function adaptiveCard(n: RunbookNotification, link?: string): Record<string, unknown> {
  const color =
    n.event === 'run-ended'
      ? n.outcome === 'completed'
        ? 'Good'
        : 'Attention'
      : n.event === 'escalation'
        ? 'Attention'
        : 'Warning';
  const body: Record<string, unknown>[] = [
    {
      type: 'TextBlock',
      text: clip(n.title, 400),
      size: 'Large',
      weight: 'Bolder',
      color,
      wrap: true,
      style: 'heading',
    },
    { type: 'TextBlock', text: clip(n.text, 4000), wrap: true },
    { type: 'FactSet', facts: facts(n).map((f) => ({ title: clip(f.label, 200), value: clip(f.value, 2000) })) },
  ];
  if (n.howToAnswer.length) {
    body.push({
      type: 'Container',
      style: 'emphasis',
      items: [
        { type: 'TextBlock', text: 'Answer with', weight: 'Bolder', wrap: true },
        ...n.howToAnswer.map((c) => ({ type: 'TextBlock', text: clip(c, 2000), fontType: 'Monospace', wrap: true })),
      ],
    });
  }
  body.push({
    type: 'TextBlock',
    text: `geofailover · ${n.event} · ${n.at}`,
    isSubtle: true,
    size: 'Small',
    wrap: true,
  });
  return {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.5',
    body,
    ...(link ? { actions: [{ type: 'Action.OpenUrl', title: 'Open in Temporal Web UI', url: link }] } : {}),
    msteams: { width: 'Full' },
  };
}

/**
 * A Teams message as a Workflows ("When a Teams webhook request is received") or incoming webhook takes it: a
 * `message` whose one attachment is the Adaptive Card.
 */
export function teamsMessage(n: RunbookNotification, link?: string): Record<string, unknown> {
  return {
    type: 'message',
    attachments: [
      { contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: adaptiveCard(n, link) },
    ],
  };
}

/** The notification as generic JSON, versioned so receivers can dispatch on it. */
export function jsonMessage(n: RunbookNotification, link?: string): Record<string, unknown> {
  return { source: 'geofailover', version: 1, ...n, ...(link ? { webUi: link } : {}) };
}

/** The body for a target of `kind`; `link` is the run's page in the Temporal Web UI, when the worker knows it. */
export function payloadFor(
  kind: 'slack' | 'teams' | 'json',
  n: RunbookNotification,
  link?: string,
): Record<string, unknown> {
  return kind === 'slack' ? slackMessage(n, link) : kind === 'teams' ? teamsMessage(n, link) : jsonMessage(n, link);
}
