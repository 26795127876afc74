/**
 * Contract payloads as text for people, shared by the CLI (status, approve), the drill's narration and anything
 * else that shows what a gate asks. Pure; tolerant of shapes it does not know (they print nothing).
 */
import { formatDuration } from './durations';

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

/**
 * What the approvers decide on, from the gate's request: the failure of an intervention gate; the trigger,
 * outage length, memory trend and blast radius of an unlink gate. Unknown shapes print nothing.
 */
export function renderGateRequest(request: unknown): string[] {
  const lines: string[] = [];
  const failure = field(request, 'failure');
  if (failure) lines.push(`  why: ${str(field(failure, 'type')) ?? 'failed'}: ${str(field(failure, 'message')) ?? ''}`);
  const trigger = field(request, 'trigger');
  const triggerText = str(field(trigger, 'detail')) ?? str(field(trigger, 'reason'));
  if (triggerText) lines.push(`  why: ${triggerText}`);
  const facts: string[] = [];
  const outageMs = field(request, 'outageMs');
  if (typeof outageMs === 'number') facts.push(`outage so far ${formatDuration(outageMs)}`);
  const trend = field(request, 'memoryTrend');
  const from = str(field(trend, 'fromPercent'));
  const to = str(field(trend, 'toPercent'));
  if (from !== undefined && to !== undefined) {
    const direction = str(field(trend, 'direction'));
    facts.push(`survivors' memory ${direction && direction !== 'unknown' ? `${direction} ` : ''}${from}% → ${to}%`);
  }
  if (facts.length) lines.push(`  ${facts.join('; ')}`);
  const effect = str(field(request, 'effect'));
  if (effect) lines.push(`  effect: ${effect}`);
  const members = field(field(request, 'blastRadius'), 'members');
  if (Array.isArray(members)) {
    const changes = members
      .map((m) =>
        str(field(m, 'change')) ? `${str(field(m, 'region')) ?? '?'} ${str(field(m, 'change'))}` : undefined,
      )
      .filter((c): c is string => c !== undefined);
    if (changes.length) lines.push(`  blast radius: ${changes.join('; ')}`);
  }
  return lines;
}
