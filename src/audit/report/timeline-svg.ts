/**
 * The step timeline of the evidence report, drawn as a Gantt chart in inline SVG (no script, no external
 * asset): a phase band, one bar per step, one bar per gate (rejected gates drawn as rejected), a marker per
 * decision and the measured RTO line. The drawing scales to its box (viewBox), so the whole run fits a phone or an
 * A4 page; markers and gate bars say what they are in letters and shapes, not in colour alone.
 */
import { formatMs, formatTime } from './format';
import { esc, STATUS_COLOURS, tag } from './html-parts';
import type { EvidenceReport, ReportDecision, ReportGate, ReportStep } from './schema';

const CHART = { width: 1060, label: 150, right: 24, row: 22, top: 34 };

/** The letter a decision marker carries: what was decided. */
export function decisionLetter(d: Pick<ReportDecision, 'name' | 'payload'>): string {
  const payload = (typeof d.payload === 'object' && d.payload !== null ? d.payload : {}) as Record<string, unknown>;
  const name = d.name === 'decide' ? String(payload.decision ?? '') : d.name;
  switch (name) {
    case 'approve':
      return 'A';
    case 'reject':
      return 'R';
    case 'intervene':
      return 'I';
    case 'unlinkNow':
      return 'U';
    case 'regionRecovered':
      return 'H';
    case 'abort':
      return 'X';
    default:
      return '?';
  }
}

const DECISION_COLOURS: Record<string, string> = {
  A: '#1b5e20',
  R: '#b71c1c',
  X: '#b71c1c',
  I: '#0d47a1',
  U: '#e65100',
  H: '#1b5e20',
  '?': '#455a64',
};

/** A gate's outcome as the bar's colour and dash: approved solid, rejected/timed-out hatched red, open dashed. */
function gateStyle(g: ReportGate): { fill: string; pattern?: string; label: string } {
  const outcome = g.outcome ?? 'open';
  if (outcome === 'approved' || outcome === 'retry')
    return { fill: STATUS_COLOURS.succeeded as string, label: outcome };
  if (outcome === 'rejected' || outcome === 'aborted' || outcome === 'timed-out') {
    return { fill: STATUS_COLOURS.failed as string, pattern: 'url(#hatch-rejected)', label: outcome.toUpperCase() };
  }
  if (outcome === 'open') return { fill: STATUS_COLOURS.waiting as string, label: 'OPEN' };
  return { fill: STATUS_COLOURS.skipped as string, label: outcome };
}

/**
 * The steps as a Gantt chart in inline SVG: one bar per step from its start to its end (to the report's end
 * while it runs), a phase band, a bar per gate, a marker per decision (letter: what; circle: accepted; crossed
 * square: refused; dashed circle: not answered yet) and the RTO line, with a legend.
 */
export function timelineSvg(report: EvidenceReport): string {
  const t0 = Date.parse(report.workflow.startedAt);
  const ends = [
    report.workflow.closedAt,
    report.workflow.lastEventAt,
    ...report.steps.map((s) => s.endedAt),
    ...report.decisions.map((d) => d.at),
  ].flatMap((t) => (t ? [Date.parse(t)] : []));
  const tEnd = Math.max(t0 + 1, ...ends.filter((t) => Number.isFinite(t)));
  const plot = CHART.width - CHART.label - CHART.right;
  const x = (ms: number): number => CHART.label + ((Math.min(Math.max(ms, t0), tEnd) - t0) / (tEnd - t0)) * plot;
  const gateRows = report.gates.length ? 1 : 0;
  const rows = report.steps.length + 2 + gateRows; // phases, steps, gates, decisions
  const plotBottom = CHART.top + rows * CHART.row;
  const height = plotBottom + 26 + 34; // RTO label, two legend lines
  const parts: string[] = [
    '<defs><pattern id="hatch-rejected" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">' +
      `<rect width="6" height="6" fill="${STATUS_COLOURS.failed}"/><line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2"/></pattern></defs>`,
  ];
  const rowY = (i: number): number => CHART.top + i * CHART.row;

  // Axis with ticks.
  for (let i = 0; i <= 5; i++) {
    const t = t0 + ((tEnd - t0) * i) / 5;
    const px = x(t);
    parts.push(tag('line', { x1: px, x2: px, y1: CHART.top - 6, y2: plotBottom + 4, stroke: '#e0e6eb' }));
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
            {
              d: `M${px} ${y + 4} l7 7 l-7 7 l-7 -7 z`,
              fill: STATUS_COLOURS[s.status] ?? '#607d8b',
              stroke: '#263238',
            },
            tag('title', {}, esc(`${s.step}: ${s.status} at ${formatTime(s.endedAt)}: ${s.summary}`)),
          ),
        );
        parts.push(tag('text', { x: px - 10, y: y + 15, 'text-anchor': 'end' }, esc(s.status)));
      } else parts.push(tag('text', { x: CHART.label + 4, y: y + 15, fill: '#5f6b73' }, esc(s.status)));
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
          fill: s.status === 'failed' ? 'url(#hatch-rejected)' : (STATUS_COLOURS[s.status] ?? '#607d8b'),
          'fill-opacity': open ? 0.55 : 1,
          stroke: open ? '#37474f' : '#263238',
          'stroke-width': 0.5,
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

  // One bar per gate, from when it opened to when it was decided (to the end while open).
  if (gateRows) {
    const y = rowY(report.steps.length + 1);
    parts.push(tag('text', { x: 4, y: y + 15 }, 'gates'));
    for (const g of report.gates) {
      const from = Date.parse(g.requestedAt);
      const to = g.decidedAt ? Date.parse(g.decidedAt) : tEnd;
      const style = gateStyle(g);
      const width = Math.max(4, x(to) - x(from));
      parts.push(
        tag(
          'g',
          { class: `gate gate-${(g.outcome ?? 'open').replace(/[^a-z-]/g, '')}` },
          tag(
            'rect',
            {
              x: x(from),
              y: y + 3,
              width,
              height: CHART.row - 6,
              fill: style.pattern ?? style.fill,
              stroke: '#263238',
              'stroke-width': 0.75,
              'stroke-dasharray': g.outcome ? undefined : '4 2',
            },
            tag('title', {}, esc(`${g.gate}: ${g.outcome ?? 'open'} (opened ${formatTime(g.requestedAt)})`)),
          ) +
            tag(
              'text',
              {
                x: Math.min(x(from) + width + 4, CHART.width - 4),
                y: y + 15,
                'text-anchor': x(from) + width + 80 > CHART.width ? 'end' : 'start',
              },
              esc(`${g.gate} ${style.label}`),
            ),
        ),
      );
    }
  }

  // Decisions: a marker each; the letter says what, the shape says the answer (colour only repeats it).
  const dy = rowY(report.steps.length + 1 + gateRows);
  const cy = dy + CHART.row / 2;
  parts.push(tag('text', { x: 4, y: dy + 15 }, 'decisions'));
  for (const d of report.decisions) {
    const px = x(Date.parse(d.at));
    const letter = decisionLetter(d);
    const colour = DECISION_COLOURS[letter] ?? '#455a64';
    const title = tag(
      'title',
      {},
      esc(
        `${formatTime(d.at)} ${d.name} signed by ${d.signature.verified ? d.signature.signer : `${d.actor ?? '?'} (not verified)`}: ${d.verdict}${d.reason ? `: ${d.reason}` : ''}`,
      ),
    );
    let shape: string;
    if (d.verdict === 'accepted') {
      shape = tag('circle', { cx: px, cy, r: 7, fill: colour, stroke: '#000', 'stroke-width': 0.75 });
    } else if (d.verdict === 'unknown') {
      shape = tag('circle', { cx: px, cy, r: 7, fill: '#fff', stroke: colour, 'stroke-dasharray': '2 2' });
    } else {
      shape =
        tag('rect', {
          x: px - 7,
          y: cy - 7,
          width: 14,
          height: 14,
          fill: '#fff',
          stroke: '#b71c1c',
          'stroke-width': 1.5,
        }) + tag('line', { x1: px - 7, y1: cy + 7, x2: px + 7, y2: cy - 7, stroke: '#b71c1c', 'stroke-width': 1.5 });
    }
    const ink = d.verdict === 'accepted' ? '#fff' : colour;
    parts.push(
      tag(
        'g',
        { class: `marker decision-${d.verdict}`, 'data-letter': letter },
        title +
          shape +
          tag(
            'text',
            { x: px, y: cy + 4, 'text-anchor': 'middle', fill: ink, 'font-weight': 700, class: 'letter' },
            letter,
          ),
      ),
    );
  }

  // The measured RTO.
  const rto = report.outcome.rtoMs;
  if (rto !== undefined) {
    const px = x(t0 + rto);
    parts.push(
      tag('line', { x1: px, x2: px, y1: CHART.top, y2: plotBottom + 4, stroke: '#c62828', 'stroke-dasharray': '5 3' }),
    );
    parts.push(
      tag(
        'text',
        {
          x: Math.min(px + 3, CHART.width - 4),
          y: plotBottom + 18,
          fill: '#c62828',
          'text-anchor': px + 80 > CHART.width ? 'end' : 'start',
        },
        esc(`RTO ${formatMs(rto)}`),
      ),
    );
  }

  // Legend: what letters and shapes mean.
  parts.push(
    tag(
      'text',
      { x: 4, y: height - 20, class: 'legend' },
      esc(
        'Decisions: A approve, R reject, I intervene, U unlinkNow, H regionRecovered, X abort; filled circle ' +
          'accepted, crossed square refused, dashed circle not answered yet.',
      ),
    ),
    tag(
      'text',
      { x: 4, y: height - 6, class: 'legend' },
      esc('Gates: solid bar decided, red hatched bar rejected, timed out or aborted, dashed bar still open.'),
    ),
  );

  return tag(
    'svg',
    {
      viewBox: `0 0 ${CHART.width} ${height}`,
      width: CHART.width,
      height,
      preserveAspectRatio: 'xMinYMin meet',
      role: 'img',
      'aria-label': `Timeline of ${report.steps.length} runbook steps, ${report.gates.length} gate(s) and ${report.decisions.length} decision(s)`,
      class: 'timeline',
    },
    parts.join(''),
  );
}
