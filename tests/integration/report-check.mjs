// The morning report in a real browser: Debian's chromium, headless, through
// playwright-core. Either the HTML report (`fleetcast report --format html`,
// a FILE) or the console's History page (--history URL: its list of runs is
// waited for, the first run clicked, its machines waited for). Prints, as
// JSON on stdout, what the page shows: its title, and per section (report:
// each session; History: the list, then the clicked run) its heading and its
// rows of cells. The test compares that with the store; this script only
// reads. Exit 0 when the page loaded without a script or console error, 1
// otherwise, 2 on a usage error.
//
//   node report-check.mjs FILE.html [--chromium /usr/bin/chromium]
//   node report-check.mjs --history http://127.0.0.1:7680/history.html [--chromium PATH]
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { openBrowser } from './chromium.mjs';

function usage(msg) {
  console.error(`report-check: ${msg}\nusage: node report-check.mjs FILE.html [--chromium PATH]`);
  process.exit(2);
}

const args = process.argv.slice(2);
let file = '';
let history = '';
let chromium = '/usr/bin/chromium';
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--chromium' && i + 1 < args.length) chromium = args[++i];
  else if (args[i] === '--history' && i + 1 < args.length) history = args[++i];
  else if (!file && !args[i].startsWith('--')) file = args[i];
  else usage(`unexpected argument ${args[i]}`);
}
if (!history && (!file || !fs.existsSync(file))) usage('which report file?');

const { page, errors, close } = await openBrowser(chromium, 'report');
try {
  if (history) {
    await page.goto(history, { waitUntil: 'load', timeout: 30000 });
    await page.waitForSelector('[data-testid="history-run"]', { timeout: 15000 });
    await page.click('[data-testid="history-run"]');
    await page.waitForSelector('[data-testid="history-machine"]', { timeout: 15000 });
  } else {
    await page.goto(pathToFileURL(path.resolve(file)).href, { waitUntil: 'load', timeout: 30000 });
  }
  const shown = await page.evaluate(() => {
    const rows = (el) => [...el.querySelectorAll('tbody tr, tr')].filter((r) => r.querySelector('td'))
      .map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent));
    const sections = document.querySelector('main.history')
      ? [{ heading: 'runs', rows: rows(document.getElementById('runs')) },
        { heading: document.getElementById('run-summary').textContent,
          rows: rows(document.getElementById('run-machines')) }]
      : [...document.querySelectorAll('section')].map((s) => ({
        heading: s.querySelector('h2') ? s.querySelector('h2').textContent : '', rows: rows(s),
      }));
    return { title: document.title, sessions: sections };
  });
  console.log(JSON.stringify({ ...shown, errors }));
} finally {
  await close();
}
process.exit(errors.length ? 1 : 0);
