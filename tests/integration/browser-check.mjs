// The dashboard in a real browser: Debian's chromium, headless, driven by
// playwright-core (no bundled browser). Loads fleetcastd's dashboard, and
// checks that the session's machines appear as tiles, that their progress
// moves, and that they all reach "done". Prints TAP-like lines; exit 0 when
// every check passed, 1 when one failed, 2 on a usage or set-up error.
//
//   node browser-check.mjs --url http://127.0.0.1:7680/ --machines 6
//        [--screenshot OUT.png] [--timeout 240] [--token TOKEN --click-start]
//        [--chromium /usr/bin/chromium] [--viewport 1366x768] [--expect-name TEXT]
//        [--expect-capture MAC --capture-out PATH]
//
// --click-start: the session waits (start policy); once the N tiles are
// there the script clicks "Start now", answering the token dialog.
// --expect-name: a tile shows exactly TEXT as its name (a name with markup
// and escaped bytes: it must be shown as text, never parsed as HTML).
// --expect-capture: a capture armed for MAC (out PATH) is listed in the
// Captures panel as armed, with its MAC, its file and its progress; the
// script then cancels it through the API (--token) and the row turns
// "cancelled" without a reload (the panel follows the event stream).
// Playwright-core is found through NODE_PATH or FC_PLAYWRIGHT (its directory).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
let results = { passed: 0, failed: 0 };

function parseArgs(argv) {
  const o = {
    url: 'http://127.0.0.1:7680/', machines: 0, screenshot: '', timeout: 240, token: '',
    clickStart: false, chromium: '/usr/bin/chromium', viewport: '1366x768', session: '',
    expectName: '', expectCapture: '', captureOut: '',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--url') o.url = val();
    else if (a === '--machines') o.machines = parseInt(val(), 10);
    else if (a === '--screenshot') o.screenshot = val();
    else if (a === '--timeout') o.timeout = parseInt(val(), 10);
    else if (a === '--token') o.token = val();
    else if (a === '--click-start') o.clickStart = true;
    else if (a === '--chromium') o.chromium = val();
    else if (a === '--viewport') o.viewport = val();
    else if (a === '--session') o.session = val();
    else if (a === '--expect-name') o.expectName = val();
    else if (a === '--expect-capture') o.expectCapture = val();
    else if (a === '--capture-out') o.captureOut = val();
    else usage(`unknown argument ${a}`);
  }
  if (!(o.machines > 0)) usage('--machines N is required');
  return o;
}

function usage(msg) {
  console.error(`browser-check: ${msg}`);
  process.exit(2);
}

function log(msg) {
  console.log(`# ${msg}`);
}

function check(ok, what) {
  if (ok) results.passed++;
  else results.failed++;
  console.log(`${ok ? 'ok' : 'not ok'} ${results.passed + results.failed} - browser: ${what}`);
  return ok;
}

function loadPlaywright() {
  const tries = [process.env.FC_PLAYWRIGHT, 'playwright-core'].filter(Boolean);
  for (const t of tries) {
    try {
      return require(t);
    } catch (e) {
      /* next */
    }
  }
  usage('playwright-core not found (set FC_PLAYWRIGHT or NODE_PATH)');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The tiles as the page shows them: name, state, progress (data attributes).
async function tiles(page) {
  return page.$$eval('[data-testid="machine-tile"]', (ts) =>
    ts.map((t) => ({ name: t.dataset.name, state: t.dataset.state, progress: parseFloat(t.dataset.progress) })));
}

async function waitFor(page, what, timeoutS, pred) {
  const end = Date.now() + timeoutS * 1000;
  let last = [];
  while (Date.now() < end) {
    last = await tiles(page);
    if (pred(last)) return { ok: true, tiles: last };
    await sleep(250);
  }
  log(`timed out after ${timeoutS} s waiting for ${what}; tiles: ${JSON.stringify(last)}`);
  return { ok: false, tiles: last };
}

async function clickStart(page, token) {
  await page.click('[data-testid="start-button"]');
  const dialog = page.locator('[data-testid="token-dialog"]');
  await dialog.waitFor({ state: 'visible', timeout: 5000 });
  await page.fill('[data-testid="token-input"]', token);
  await page.click('[data-testid="token-save"]');
  await page.waitForFunction(() => {
    const s = document.querySelector('[data-testid="session-state"]');
    return s && s.textContent !== 'waiting';
  }, null, { timeout: 15000 });
}

async function run(o) {
  const pw = loadPlaywright();
  const [vw, vh] = o.viewport.split('x').map((x) => parseInt(x, 10));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-chromium-'));
  const errors = [];
  let ctx;
  try {
    ctx = await pw.chromium.launchPersistentContext(profile, {
      executablePath: o.chromium,
      headless: true,
      viewport: { width: vw, height: vh },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--disable-dev-shm-usage'],
      timeout: 60000,
    });
    const page = ctx.pages()[0] || (await ctx.newPage());
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('requestfailed', (r) => {
      if (!r.url().includes('/api/v1/events')) errors.push(`request failed: ${r.url()}`);
    });
    await checks(page, o);
    const noErr = errors.filter((e) => !/events|EventSource|ERR_INCOMPLETE_CHUNKED/.test(e));
    check(noErr.length === 0, `no script errors on the page${noErr.length ? ': ' + noErr.slice(0, 3).join(' | ') : ''}`);
  } finally {
    if (ctx) await ctx.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

async function checks(page, o) {
  const url = o.session ? `${o.url}#session=${o.session}` : o.url;
  const res = await page.goto(url, { waitUntil: 'load', timeout: 30000 });
  check(res && res.status() === 200, `GET ${o.url} is 200 (got ${res && res.status()})`);
  check(/fleetcast/.test(await page.title()), 'the page title names fleetcast');
  const local = await page.$$eval('script[src],link[href]', (es) =>
    es.map((e) => e.src || e.href).filter((u) => !u.startsWith('data:') && new URL(u).origin !== location.origin));
  check(local.length === 0, `everything is served by fleetcastd (foreign: ${local.join(' ') || 'none'})`);
  const rows = await page.locator('[data-testid="session-row"]').count().catch(() => 0);
  await page.waitForSelector('[data-testid="session-row"]', { timeout: 20000 }).catch(() => {});
  check((await page.locator('[data-testid="session-row"]').count()) >= 1, `a session row is listed (${rows} at first)`);
  let r = await waitFor(page, `${o.machines} machine tiles`, Math.min(o.timeout, 90), (t) => t.length >= o.machines);
  check(r.ok, `${o.machines} machine tiles appear (${r.tiles.length}: ${r.tiles.map((t) => t.name).join(' ')})`);
  const names = new Set(r.tiles.map((t) => t.name));
  check(names.size === r.tiles.length && !names.has(''), 'every tile has its own name');
  if (o.expectName) {
    const shown = await page.$$eval('[data-testid="machine-tile"] .n', (ns) => ns.map((n) => n.textContent));
    check(shown.includes(o.expectName), `a tile shows the name ${JSON.stringify(o.expectName)} as text (${JSON.stringify(shown)})`);
    const tags = await page.$$eval('[data-testid="machine-grid"] i', (es) => es.length);
    check(tags === 0, `markup in a machine's name is not parsed (${tags} <i> elements in the grid)`);
  }
  if (o.expectCapture) await captureShown(page, o);
  if (o.clickStart) {
    let ok = true;
    try {
      await clickStart(page, o.token);
    } catch (e) {
      ok = false;
      log(`start: ${e.message}`);
    }
    check(ok, 'the "Start now" button (token asked once in the dialog) started the session');
  }
  await progressMoves(page, o);
  if (o.screenshot) {
    await page.screenshot({ path: o.screenshot.replace(/\.png$/, '-running.png') });
    log(`screenshot (running): ${o.screenshot.replace(/\.png$/, '-running.png')}`);
  }
  r = await waitFor(page, 'every machine done', o.timeout, (t) => t.length >= o.machines && t.every((x) => x.state === 'done'));
  check(r.ok, `every machine reaches done (${r.tiles.map((t) => `${t.name}=${t.state}`).join(' ')})`);
  check(r.tiles.every((t) => t.progress >= 100), 'every done tile shows 100 %');
  await page.waitForFunction(() => {
    const s = document.querySelector('[data-testid="session-state"]');
    return s && s.textContent === 'finished';
  }, null, { timeout: 20000 }).catch(() => {});
  const sstate = await page.textContent('[data-testid="session-state"]');
  check(sstate === 'finished', `the session shows finished (${sstate})`);
  const noScroll = await page.evaluate(() => document.scrollingElement.scrollHeight <= window.innerHeight + 1);
  check(noScroll, 'no page scroll at this size');
  if (o.screenshot) {
    await page.screenshot({ path: o.screenshot });
    log(`screenshot: ${o.screenshot}`);
  }
}

// The capture panel: the armed capture's row, then its cancellation, live.
async function captureRow(page, mac, state, timeoutMs) {
  const sel = `[data-testid="capture-row"][data-mac="${mac}"]${state ? `[data-state="${state}"]` : ''}`;
  await page.waitForSelector(sel, { timeout: timeoutMs }).catch(() => {});
  return page.$$eval(sel, (rs) => rs.map((r) => ({
    state: r.dataset.state, text: r.textContent,
    progress: (r.querySelector('[data-testid="capture-progress"]') || {}).textContent || '',
  })));
}

async function captureShown(page, o) {
  const mac = o.expectCapture;
  let rows = await captureRow(page, mac, 'armed', 15000);
  check(rows.length === 1, `the Captures panel lists ${mac} as armed (${JSON.stringify(rows)})`);
  const base = o.captureOut.split('/').pop();
  check(rows.length === 1 && rows[0].text.includes(mac) && rows[0].text.includes(base) &&
    /0 B in 0 chunks/.test(rows[0].progress),
  `its row shows the MAC, the file ${base} and its progress (${rows.length ? rows[0].text : 'none'})`);
  const res = await page.evaluate(async ([m, t]) => {
    const r = await fetch('/api/v1/captures/cancel', {
      method: 'POST', headers: { Authorization: 'Bearer ' + t, 'Content-Type': 'application/json' },
      body: JSON.stringify({ mac: m }),
    });
    return r.status;
  }, [mac, o.token]);
  check(res === 200, `the capture is cancelled through the API (HTTP ${res})`);
  rows = await captureRow(page, mac, 'cancelled', 10000);
  check(rows.length === 1, `the row turns cancelled without a reload (${JSON.stringify(rows)})`);
}

// Progress moves: some tile's progress grows between two samples.
async function progressMoves(page, o) {
  const end = Date.now() + Math.min(o.timeout, 120) * 1000;
  let first = null;
  let moved = null;
  while (Date.now() < end && !moved) {
    const t = await tiles(page);
    if (first) {
      moved = t.find((x) => {
        const before = first.get(x.name);
        return before !== undefined && x.progress > before && before < 100;
      });
      if (!moved && t.every((x) => x.progress >= 100)) break;
    }
    if (!first && t.some((x) => x.state === 'receiving' || x.progress > 0 || x.state === 'waiting')) {
      first = new Map(t.map((x) => [x.name, x.progress]));
    }
    await sleep(300);
  }
  const detail = moved ? `${moved.name} from ${first.get(moved.name)} to ${moved.progress} %` : 'no tile moved';
  check(!!moved, `a tile's progress increases between two samples (${detail})`);
}

const opts = parseArgs(process.argv.slice(2));
const timer = setTimeout(() => {
  check(false, `the whole check took over ${opts.timeout + 90} s`);
  process.exit(1);
}, (opts.timeout + 90) * 1000);
try {
  await run(opts);
} catch (e) {
  check(false, `browser run: ${e.message}`);
}
clearTimeout(timer);
console.log(`# browser: ${results.passed} passed, ${results.failed} failed`);
process.exit(results.failed ? 1 : 0);
