/**
 * The readiness report: readiness-report.md for people (the evidence report's style) and readiness-report.json
 * for tools, over the reports of one `geofailover readiness` run (one group, or every group).
 */
import { md } from '../audit/report/markdown';
import type { ReadinessReport, ReadinessVerdict } from '../contract/readiness';
import type { MemberSnapshot } from '../contract/types';

/** What `readiness --json` prints and readiness-report.json holds. */
export interface ReadinessOutput {
  /** the worst verdict of every group checked */
  verdict: ReadinessVerdict;
  /** true unless a check of some group failed (the command exits 1) */
  ready: boolean;
  reports: ReadinessReport[];
}

const RANK: Record<ReadinessVerdict, number> = { pass: 0, warn: 1, fail: 2 };
const MARK: Record<ReadinessVerdict, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' };

export function readinessOutput(reports: ReadinessReport[]): ReadinessOutput {
  const verdict = reports.reduce<ReadinessVerdict>((w, r) => (RANK[r.verdict] > RANK[w] ? r.verdict : w), 'pass');
  return { verdict, ready: verdict !== 'fail', reports };
}

function table(header: string[], rows: string[][]): string[] {
  if (!rows.length) return [];
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

function memberState(m: MemberSnapshot): string {
  if (!m.reachable) return `unreachable${m.error ? ` (${m.error.code}: ${m.error.message})` : ''}`;
  return `${m.provisioningState ?? '?'} / ${m.resourceState ?? '?'}`;
}

function memberLinks(m: MemberSnapshot): string {
  const links = m.linkedDatabases ?? [];
  if (!links.length) return m.reachable ? 'none' : '';
  return links.map((l) => `${l.id.split('/redisEnterprise/')[1]?.split('/')[0] ?? l.id} ${l.state}`).join(', ');
}

function groupSection(r: ReadinessReport): string[] {
  const out = [`## ${md(r.group)}: **${MARK[r.verdict]}**`, ''];
  out.push(
    ...table(
      ['', ''],
      [
        ['Verdict', `**${MARK[r.verdict]}**${r.ready ? '' : ': it could not fail over safely right now'}`],
        ['Checked at', md(r.checkedAt)],
        ['Policy', md(r.policyDigest ?? '(not found)')],
        ...(r.change
          ? [
              [
                'Change',
                md(
                  `${r.change.from} → ${r.change.to}; webhook ${
                    r.change.webhook
                      ? r.change.webhook.delivered
                        ? 'delivered'
                        : `not delivered (${r.change.webhook.error ?? ''})`
                      : 'not called'
                  }`,
                ),
              ],
            ]
          : []),
      ],
    ),
    '',
  );
  out.push('### Checks', '');
  out.push(
    ...table(
      ['Check', 'Verdict', 'Why'],
      r.checks.map((c) => [md(c.check), `**${MARK[c.verdict]}**`, c.reasons.map(md).join('<br>')]),
    ),
    '',
  );
  if (r.members.length) {
    out.push('### Members', '');
    out.push(
      ...table(
        ['Region', 'State', 'Linked databases', 'Eviction', 'SKU'],
        r.members.map((m) => [
          md(m.region),
          md(memberState(m)),
          md(memberLinks(m)),
          md(m.settings?.evictionPolicy ?? ''),
          md(m.settings?.sku ?? ''),
        ]),
      ),
      '',
    );
  }
  return out;
}

/** readiness-report.md */
export function renderReadinessMarkdown(output: ReadinessOutput): string {
  const out = ['# Readiness report', ''];
  out.push(
    `> **${MARK[output.verdict]}**: ${
      output.ready
        ? output.verdict === 'warn'
          ? 'every group could fail over, with warnings below.'
          : 'every group checked could fail over right now.'
        : 'at least one group could not fail over safely right now.'
    }`,
    '',
  );
  out.push('## Summary', '');
  out.push(
    ...table(
      ['Group', 'Verdict', 'Failing or warning checks', 'Checked at'],
      output.reports.map((r) => [
        md(r.group),
        `**${MARK[r.verdict]}**`,
        md(
          r.checks
            .filter((c) => c.verdict !== 'pass')
            .map((c) => `${c.check} (${c.verdict})`)
            .join(', ') || '—',
        ),
        md(r.checkedAt),
      ]),
    ),
    '',
  );
  for (const r of output.reports) out.push(...groupSection(r));
  return `${out.join('\n').trimEnd()}\n`;
}

/** readiness-report.json */
export function renderReadinessJson(output: ReadinessOutput): string {
  return `${JSON.stringify(output, null, 2)}\n`;
}

/** The terminal's text: one line per group, then one line per check that did not pass. */
export function renderReadinessText(output: ReadinessOutput): string {
  const lines: string[] = [];
  for (const r of output.reports) {
    lines.push(`${r.group}: ${MARK[r.verdict]}${r.ready ? '' : ' (not ready to fail over)'} — checked ${r.checkedAt}`);
    for (const c of r.checks) {
      const why = c.verdict === 'pass' ? (c.reasons[0] ?? '') : c.reasons.join('; ');
      lines.push(`  ${MARK[c.verdict]}  ${c.check.padEnd(16)} ${why}`);
    }
    if (r.change) lines.push(`  change: ${r.change.from} → ${r.change.to}`);
  }
  return lines.join('\n');
}
