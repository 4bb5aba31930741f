// The dashboard's "PXE seen" panel in a real browser (test-pxe-watch.sh):
// Debian's chromium, headless, through playwright-core. Opens the console,
// waits until the panel lists every MAC given (it polls GET /api/v1/pxe
// every 5 s), and prints, as JSON on stdout, its rows: MAC, machine state
// and the text shown. Exit 0 when every MAC was listed and the page had no
// script or console error, 1 otherwise, 2 on a usage error.
//
//   node pxe-panel-check.mjs URL MAC... [--chromium /usr/bin/chromium]
import { openBrowser } from './chromium.mjs';

function usage(msg) {
  console.error(`pxe-panel-check: ${msg}\nusage: node pxe-panel-check.mjs URL MAC... [--chromium PATH]`);
  process.exit(2);
}

const args = process.argv.slice(2);
let url = '';
const macs = [];
let chromium = '/usr/bin/chromium';
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--chromium' && i + 1 < args.length) chromium = args[++i];
  else if (args[i].startsWith('--')) usage(`unexpected argument ${args[i]}`);
  else if (!url) url = args[i];
  else macs.push(args[i]);
}
if (!url || !macs.length) usage('which console and which MACs?');

const { page, errors, close } = await openBrowser(chromium, 'pxe', 90000);
let listed = true;
try {
  await page.goto(url, { waitUntil: 'load', timeout: 60000 });
  for (const mac of macs) {
    try {
      await page.waitForSelector(`[data-testid="pxe-row"][data-mac="${mac}"]`, { timeout: 60000 });
    } catch (e) {
      listed = false;
      errors.push(`${mac} not listed: ${e.message.split('\n')[0]}`);
    }
  }
  const rows = await page.evaluate(() => [...document.querySelectorAll('[data-testid="pxe-row"]')]
    .map((r) => ({ mac: r.dataset.mac, machine: r.dataset.machine, text: r.textContent })));
  console.log(JSON.stringify({ rows, errors }));
} finally {
  await close();
}
process.exit(listed && !errors.length ? 0 : 1);
