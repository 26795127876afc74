/**
 * The step timeline of the evidence report, drawn as a Gantt chart in inline SVG (no script, no external
 * asset): a phase band, one bar per step, a diamond per decision and the measured RTO line.
 */
import { formatMs, formatTime } from './format';
import { esc, STATUS_COLOURS, tag } from './html-parts';
import type { EvidenceReport, ReportStep } from './schema';

const CHART = { width: 1060, label: 150, right: 20, row: 22, top: 34 };

/**
 * The steps as a Gantt chart in inline SVG: one bar per step from its start to its end (to the report's end
 * while it runs), a phase band, a tick per decision (green accepted, red refused) and the RTO line.
 */
export function timelineSvg(report: EvidenceReport): string {
  const t0 = Date.parse(report.workflow.startedAt);
  const ends = [report.workflow.closedAt, report.workflow.lastEventAt, ...report.steps.map((s) => s.endedAt)].flatMap(
    (t) => (t ? [Date.parse(t)] : []),
  );
  const tEnd = Math.max(t0 + 1, ...ends);
  const plot = CHART.width - CHART.label - CHART.right;
  const x = (ms: number): number => CHART.label + ((Math.min(Math.max(ms, t0), tEnd) - t0) / (tEnd - t0)) * plot;
  const rows = report.steps.length + 2; // phases, steps, decisions
  const height = CHART.top + rows * CHART.row + 26;
  const parts: string[] = [];
  const rowY = (i: number): number => CHART.top + i * CHART.row;

  // Axis with ticks.
  for (let i = 0; i <= 5; i++) {
    const t = t0 + ((tEnd - t0) * i) / 5;
    const px = x(t);
    parts.push(tag('line', { x1: px, x2: px, y1: CHART.top - 6, y2: height - 22, stroke: '#e0e6eb' }));
    parts.push(
      tag(
        'text',
        { x: px, y: CHART.top - 10, 'text-anchor': i === 0 ? 'start' : i === 5 ? 'end' : 'middle' },
        esc(`+${formatMs(t - t0)}`),
      ),
    );
  }

  // Phase band.
  parts.push(tag('text', { x: 4, y: rowY(0) + 15 }, 'phase'));
  report.phases.forEach((p, i) => {
    const from = Date.parse(p.at);
    const to = report.phases[i + 1] ? Date.parse((report.phases[i + 1] as { at: string }).at) : tEnd;
    const width = Math.max(1, x(to) - x(from));
    const hue = (p.phase.split('').reduce((h, c) => h + c.charCodeAt(0), 0) * 37) % 360;
    parts.push(
      tag(
        'rect',
        { x: x(from), y: rowY(0) + 4, width, height: CHART.row - 8, fill: `hsl(${hue} 45% 80%)` },
        tag('title', {}, esc(`${p.phase} from ${formatTime(p.at)}`)),
      ),
    );
    if (width > 60) parts.push(tag('text', { x: x(from) + 3, y: rowY(0) + 15 }, esc(p.phase)));
  });

  // One bar per step.
  report.steps.forEach((s: ReportStep, i) => {
    const y = rowY(i + 1);
    parts.push(tag('text', { x: 4, y: y + 15 }, esc(s.step)));
    if (!s.startedAt) {
      // A step that only ended (complete) is a milestone; one that never started says why it has no bar.
      if (s.endedAt) {
        const px = x(Date.parse(s.endedAt));
        parts.push(
          tag(
            'path',
            { d: `M${px} ${y + 4} l7 7 l-7 7 l-7 -7 z`, fill: STATUS_COLOURS[s.status] ?? '#607d8b' },
            tag('title', {}, esc(`${s.step}: ${s.status} at ${formatTime(s.endedAt)}: ${s.summary}`)),
          ),
        );
        parts.push(tag('text', { x: px - 10, y: y + 15, 'text-anchor': 'end' }, esc(s.status)));
      } else parts.push(tag('text', { x: CHART.label + 4, y: y + 15, fill: '#8a959e' }, esc(s.status)));
      return;
    }
    const from = Date.parse(s.startedAt);
    const open = !s.endedAt;
    const to = s.endedAt ? Date.parse(s.endedAt) : tEnd;
    const width = Math.max(3, x(to) - x(from));
    const label =
      `${s.step}: ${s.status}, ${formatTime(s.startedAt)} → ${s.endedAt ? formatTime(s.endedAt) : 'still open'}` +
      `${s.durationMs !== undefined ? ` (${formatMs(s.durationMs)})` : ''}, ${s.attempts} attempt(s)${s.actor ? `, ${s.actor}` : ''}: ${s.summary}`;
    parts.push(
      tag(
        'rect',
        {
          x: x(from),
          y: y + 4,
          width,
          height: CHART.row - 8,
          rx: 2,
          fill: STATUS_COLOURS[s.status] ?? '#607d8b',
          'fill-opacity': open ? 0.55 : 1,
          stroke: open ? '#37474f' : undefined,
          'stroke-dasharray': open ? '4 2' : undefined,
        },
        tag('title', {}, esc(label)),
      ),
    );
    const text = `${s.status}${s.durationMs !== undefined ? ` ${formatMs(s.durationMs)}` : ''}${s.attempts > 1 ? ` ×${s.attempts}` : ''}`;
    const after = x(from) + width + 4;
    parts.push(
      after + text.length * 6 < CHART.width
        ? tag('text', { x: after, y: y + 15 }, esc(text))
        : tag('text', { x: x(from) - 4, y: y + 15, 'text-anchor': 'end' }, esc(text)),
    );
  });

  // Decisions: a tick each, coloured by the runbook's answer.
  const dy = rowY(report.steps.length + 1);
  parts.push(tag('text', { x: 4, y: dy + 15 }, 'decisions'));
  for (const d of report.decisions) {
    const px = x(Date.parse(d.at));
    const colour = d.verdict === 'accepted' ? '#2e7d32' : d.verdict === 'unknown' ? '#607d8b' : '#c62828';
    parts.push(
      tag(
        'path',
        { d: `M${px} ${dy + 4} l5 7 l-5 7 l-5 -7 z`, fill: colour },
        tag(
          'title',
          {},
          esc(
            `${formatTime(d.at)} ${d.name} signed by ${d.signature.verified ? d.signature.signer : `${d.actor ?? '?'} (not verified)`}: ${d.verdict}${d.reason ? `: ${d.reason}` : ''}`,
          ),
        ),
      ),
    );
  }

  // The measured RTO.
  const rto = report.outcome.rtoMs;
  if (rto !== undefined) {
    const px = x(t0 + rto);
    parts.push(
      tag('line', { x1: px, x2: px, y1: CHART.top, y2: height - 22, stroke: '#c62828', 'stroke-dasharray': '5 3' }),
    );
    parts.push(tag('text', { x: px + 3, y: height - 8, fill: '#c62828' }, esc(`RTO ${formatMs(rto)}`)));
  }

  return tag(
    'svg',
    {
      viewBox: `0 0 ${CHART.width} ${height}`,
      width: CHART.width,
      height,
      role: 'img',
      'aria-label': `Timeline of ${report.steps.length} runbook steps`,
      class: 'timeline',
    },
    parts.join(''),
  );
}
