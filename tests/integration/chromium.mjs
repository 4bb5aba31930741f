// Debian's chromium, headless, through playwright-core, as the browser
// checks of the integration tests open it (report-check.mjs,
// pxe-panel-check.mjs): a throw-away profile, one page, and every script
// error or console error of that page collected in `errors`. close()
// closes the browser and removes the profile, also when it never started.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);

export async function openBrowser(chromium, name, timeout = 60000) {
  const pw = require(process.env.FC_PLAYWRIGHT || 'playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), `fc-${name}-`));
  const errors = [];
  let ctx = null;
  const close = async () => {
    if (ctx) await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  try {
    ctx = await pw.chromium.launchPersistentContext(profile, {
      executablePath: chromium,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--disable-dev-shm-usage'],
      timeout,
    });
  } catch (e) {
    await close();
    throw e;
  }
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  return { page, errors, close };
}
