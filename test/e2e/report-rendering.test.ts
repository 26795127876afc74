// The evidence report as people read it, in a real browser (Debian's Chromium through playwright-core): the report of
// a real drill (emulator over HTTPS, real workers, the shared dev server) on a phone (390 px: nothing wider than the
// screen), printed to A4 (the whole timeline on the page, its last decision marker included) and on a desktop
// (1400 × 900: outcome, DRILL banner, RTO against its target, replay verdict and the decisions table above the fold).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { show, spawnDrill, summaryOf } from '../helpers/drill-process';
import { uniqueTaskQueue } from '../helpers/temporal';

// The page's own globals, inside page.evaluate callbacks (the project compiles without the DOM library).
declare const document: any;
declare const window: any;
declare const getComputedStyle: any;

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** A4 less the report's 12 mm print margins, in CSS pixels (96 per inch). */
const A4_CONTENT_WIDTH_PX = Math.floor(((210 - 2 * 12) / 25.4) * 96);

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
  width: number;
}

describe('the evidence report in a browser (a real drill, Debian Chromium)', function () {
  this.timeout(120_000);
  let dir = '';
  let reportUrl = '';
  let browser: BrowserContext | undefined;
  let page: Page;

  before(async function () {
    this.timeout(420_000);
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: this test renders the report in Debian's Chromium. Install it with ` +
          '`apt-get install chromium` (.ci/run does so where it is missing)',
      );
    }
    dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-render-'));
    const out = path.join(dir, 'evidence');
    const run = await spawnDrill(['--json', '--out', out, '--task-queue', uniqueTaskQueue('render')], {
      cwd: dir,
      timeoutMs: 400_000,
    });
    assert.equal(summaryOf(run).ok, true, show(run));
    const html = path.join(out, 'report.html');
    assert.ok(existsSync(html), `the drill wrote ${html}\n${show(run)}`);
    reportUrl = pathToFileURL(html).href;
    browser = await chromium.launchPersistentContext(path.join(dir, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      offline: true,
    });
    page = browser.pages()[0] ?? (await browser.newPage());
  });

  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const box = (selector: string): Promise<Box | null> =>
    page.evaluate((s) => {
      const el = document.querySelector(s);
      if (!el) return null;
      const r = el.getBoundingClientRect();
      return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width };
    }, selector);

  /** The decision marker latest in time: the one drawn furthest right. */
  const lastMarker = (): Promise<Box | null> =>
    page.evaluate(() => {
      const boxes = [...document.querySelectorAll('svg.timeline .marker')].map((m) => m.getBoundingClientRect());
      const r = boxes.sort((a, b) => a.right - b.right).pop();
      return r ? { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width } : null;
    });

  it('at 390 px wide nothing scrolls sideways: tables wrap or scroll in their own box, the whole timeline shows', async () => {
    await page.emulateMedia({ media: 'screen' });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(reportUrl);
    const { scrollWidth, innerWidth } = await page.evaluate(() => ({
      scrollWidth: document.scrollingElement?.scrollWidth ?? Infinity,
      innerWidth: window.innerWidth,
    }));
    assert.ok(scrollWidth <= innerWidth, `page ${scrollWidth} px wide in a ${innerWidth} px window`);
    const svg = await box('svg.timeline');
    assert.ok(svg && svg.left >= 0 && svg.right <= innerWidth, `timeline ${JSON.stringify(svg)}`);
    const marker = await lastMarker();
    assert.ok(marker && marker.right <= svg.right && marker.left >= svg.left, `last marker ${JSON.stringify(marker)}`);
  });

  it('printed to A4, the whole timeline is on the page, its last decision marker included', async () => {
    await page.emulateMedia({ media: 'print' });
    await page.setViewportSize({ width: A4_CONTENT_WIDTH_PX, height: 1000 });
    await page.goto(reportUrl);
    const svg = await box('svg.timeline');
    assert.ok(svg, 'the timeline is drawn');
    assert.ok(
      svg.left >= 0 && svg.right <= A4_CONTENT_WIDTH_PX,
      `timeline ${JSON.stringify(svg)} on a page ${A4_CONTENT_WIDTH_PX} px wide`,
    );
    const marker = await lastMarker();
    assert.ok(marker && marker.right <= svg.right && marker.left >= svg.left, `last marker ${JSON.stringify(marker)}`);
    const badges = await page.evaluate(() =>
      [...document.querySelectorAll('.status')].map((b) => ({
        text: b.textContent ?? '',
        border: getComputedStyle(b).borderTopStyle,
        width: parseFloat(getComputedStyle(b).borderTopWidth),
      })),
    );
    assert.ok(badges.length > 5);
    for (const b of badges) {
      assert.match(b.text, /\S+ \w/, 'a sign and a word');
      assert.ok(b.border === 'solid' && b.width >= 1, `badge "${b.text}" has a border`);
    }
    const pdf = await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true });
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    const pages = pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g)?.length ?? 0;
    assert.ok(pages >= 1, 'a printable document');
  });

  it('at 1400 × 900 the first screen shows outcome, the DRILL banner, RTO against target, replay and decisions', async () => {
    await page.emulateMedia({ media: 'screen' });
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.goto(reportUrl);
    const fold = 900;
    for (const id of [
      '#mode-banner',
      '#outcome',
      '#rto',
      '#replay-verdict',
      '#decisions',
      'table.decisions tbody tr',
    ]) {
      const b = await box(id);
      assert.ok(b, `${id} is on the page`);
      assert.ok(b.top >= 0 && b.bottom <= fold, `${id} above the fold: ${JSON.stringify(b)}`);
    }
    const text = (s: string): Promise<string> => page.locator(s).first().innerText();
    assert.match(await text('#mode-banner'), /^DRILL\b[\s\S]*not Azure Resource Manager/);
    assert.match(await text('#outcome'), /completed/);
    assert.match(await text('#rto'), /target 30\.0 s: (met|MISSED)/);
    assert.match(
      await text('#replay-verdict'),
      /verified[\s\S]*geofailover \d+\.\d+\.\d+.*workflow bundle sha256 [0-9a-f]{16}/,
    );
    assert.match(await text('#incident'), /DRILL-\d{8}T\d{6}/);
    const rows = await page.locator('table.decisions tbody tr').allInnerTexts();
    assert.ok(
      rows.some((r) => /approval-unlink\s+approve\s+\S+\s+✓ signed/.test(r)),
      rows.join('\n'),
    );
  });
});
