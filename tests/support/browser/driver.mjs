// Runs page journeys in a real headless Chromium (Debian's /usr/bin/chromium, driven by npm
// playwright-core; no browser download) and checks every page with axe-core. tests/browser.rs
// starts the app and this script, hands it a RUN as JSON on standard input, and reads one JSON
// report from standard output (progress goes to standard error).
//
// RUN: { "base": "http://127.0.0.1:PORT", "out": "/folder/for/screenshots",
//        "journeys": [ { "name": "sign-in-company", "viewport": {"width": 1280, "height": 900},
//                        "steps": [ STEP, ... ] } ] }
// A journey may also give "device_scale_factor": 2 (with a 640 px wide viewport this is a
// 1280 px window at 200 % zoom: CSS pixels are twice the size, as WCAG 1.4.4 resize text asks).
// One browser for the whole run; each journey gets a fresh context (no cookies), so a journey
// signs in itself. A journey stops at its first failing step (a "failed" screenshot is taken);
// the other journeys still run.
//
// STEP VOCABULARY (each step is an object with one action key; extra keys are options):
//   {"goto": "/path"}                     open a path on base; the page is then CHECKED (below).
//                                         option "status": 404 expects that HTTP status (default 2xx).
//   {"click": "name"}                     click the ONE button or link whose accessible name contains
//                                         "name" (case-insensitive; an aria-label counts); then CHECKED.
//   {"click": {"button"|"link": "name", "exact": true}} or {"click": {"selector": "css"}}
//                                         option "status": 422 expects the page the click leads to to
//                                         answer that (a form with errors); default 2xx (after redirects)
//                                         option "third_party": true: the page the click leads to is not
//                                         this service's (the test identity provider's forms): it is
//                                         loaded and screenshotted but not CHECKED
//   {"fill": {"label": "Titel", "value": "…"}}    type into the field with that <label>
//   {"fill": {"selector": "#f-title", "value": "…"}}
//   {"check": "label"} / {"uncheck": "label"}     a checkbox or radio by its label
//                                         (or {"check": {"selector": "css"}})
//   {"select": {"label": "Steg", "option": "Avtal"}}   choose an option by its text (or "value": "agreement")
//   {"upload": {"label": "Fil", "name": "plan.pdf", "mime": "application/pdf", "text": "%PDF-1.4…"}}
//                                         put a file with that name, type and content in a file input
//   {"expect_text": "text"}               the page's visible text contains it
//   {"expect_no_text": "text"}            … does not contain it (e.g. a refused action is not offered)
//   {"expect_url": "regex"}               tested against the path + query, e.g. "^/collaborations/[0-9a-f-]+$"
//   {"expect_selector": "css"}            at least one element matches, e.g. "html[lang=en]"
//   {"expect_no_selector": "css"}         none matches
//   {"expect_fits_width": true}           no horizontal scrolling (WCAG 1.4.10 reflow at 320 px;
//                                         at 200 % zoom with "device_scale_factor", WCAG 1.4.4)
//   {"expect_zoom": 2}                    the page is drawn at that many device pixels per CSS
//                                         pixel (window.devicePixelRatio: the zoom really applies)
//   {"press": "Tab"}                      a key on the keyboard (Playwright key names: "Enter", "Shift+Tab")
//   {"expect_focused": "css"}             the focused element matches, e.g. "a.skip"
//   {"viewport": {"width": 320, "height": 720}}   resize the page (a phone; WCAG's 400 % reflow width)
//   {"axe": "name"}                       run axe-core now (name is for the report)
//   {"screenshot": "name"}                full-page screenshot now
//   {"probe_outside": "http://example.com/x.png"} a blank page in this context tries to load that URL
//                                         (as <img> and as a navigation): it must be blocked
//   {"evaluate": "js"}                    run script in the page (for the harness's own tests only)
//   {"download": {"link": "Ladda ned PDF"}, "starts_with": "%PDF", "filename": "\\.pdf$"}
//                                         click a link that downloads a file (no page loads); the
//                                         file's first bytes and suggested name are checked
//
// CHECKED means: the page has loaded, axe-core finds no violation of impact serious or critical
// (moderate and minor ones are listed in the report), the browser console has no errors (Chromium
// logs CSP violations there) and a full-page screenshot is written to OUT/NN-<journey>-<page>.png.
// Console errors are also checked after every step and at the end of a journey.
//
// The browser reaches no host but 127.0.0.1: every other request is aborted and listed under
// "blocked" in the report; "requests" lists those that went through.
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const EXECUTABLE = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ALLOWED_HOST = '127.0.0.1';
const STEP_TIMEOUT_MS = 10_000;

const log = (...a) => process.stderr.write(`[browser] ${a.join(' ')}\n`);

function slug(s) {
  return String(s).toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'page';
}

function readStdin() {
  return new Promise((resolve, reject) => {
    let data = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (c) => { data += c; });
    process.stdin.on('end', () => resolve(data));
    process.stdin.on('error', reject);
  });
}

class StepError extends Error {}

class Journey {
  constructor(run, spec, counter) {
    this.run = run;
    this.spec = spec;
    this.counter = counter;
    this.name = slug(spec.name || 'journey');
    this.console = [];     // console errors and page errors not yet reported
    this.screenshots = [];
    this.axe = [];          // per checked page: { url, serious: [...], other: [...] }
    this.requests = [];
    this.blocked = [];
  }

  url(p) {
    return new URL(p, this.run.base).toString();
  }

  here() {
    const u = new URL(this.page.url());
    return u.pathname + u.search;
  }

  async start(browser) {
    this.context = await browser.newContext({
      viewport: this.spec.viewport || { width: 1280, height: 900 },
      deviceScaleFactor: Number(this.spec.device_scale_factor || 1),
      locale: 'sv-SE',
      // No service worker may answer in place of the network (and so escape the route below).
      serviceWorkers: 'block',
    });
    this.context.setDefaultTimeout(STEP_TIMEOUT_MS);
    await this.context.route('**/*', (route) => {
      const u = route.request().url();
      let host = '';
      try { host = new URL(u).hostname; } catch { /* not a URL: blocked */ }
      if (host === ALLOWED_HOST) {
        this.requests.push(u);
        return route.continue();
      }
      this.blocked.push(u);
      return route.abort('blockedbyclient');
    });
    this.page = await this.context.newPage();
    this.watch(this.page);
    // The last answer to a navigation of the page (after redirects: the final one).
    this.page.on('response', (r) => {
      if (r.request().isNavigationRequest() && r.frame() === this.page.mainFrame()) this.lastDocument = r;
    });
  }

  watch(page, ignore = false) {
    page.on('console', (m) => {
      if (!ignore && m.type() === 'error') this.console.push(`console error on ${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => {
      if (!ignore) this.console.push(`script error on ${page.url()}: ${e.message}`);
    });
  }

  consoleClean(where) {
    if (this.console.length) {
      const list = this.console.splice(0);
      throw new StepError(`${where}: the browser reported errors (a CSP violation shows here too):\n  ${list.join('\n  ')}`);
    }
  }

  nextShot(label) {
    this.counter.n += 1;
    const nn = String(this.counter.n).padStart(2, '0');
    return path.join(this.run.out, `${nn}-${this.name}-${slug(label)}.png`);
  }

  async screenshot(label) {
    const file = this.nextShot(label);
    await this.page.screenshot({ path: file, fullPage: true });
    this.screenshots.push(file);
    return file;
  }

  async runAxe(label) {
    await this.page.evaluate(AXE_SOURCE);
    const result = await this.page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const r = await axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
      }));
    });
    const serious = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    const other = result.filter((v) => !serious.includes(v));
    this.axe.push({ page: label, url: this.here(), serious, other });
    if (serious.length) {
      const text = serious.map((v) => `  [${v.impact}] ${v.id}: ${v.help}\n${v.nodes
        .map((n) => `      at ${n.target}\n        ${String(n.summary).replace(/\n/g, '\n        ')}`).join('\n')}`).join('\n');
      throw new StepError(`axe-core on ${this.here()} (${label}) found ${serious.length} serious or critical violation(s):\n${text}`);
    }
  }

  /** The checks every page gets: loaded, console clean, axe, screenshot. */
  async checked(label) {
    await this.page.waitForLoadState('load');
    this.consoleClean(`on ${this.here()}`);
    await this.runAxe(label);
    await this.screenshot(label);
    this.consoleClean(`on ${this.here()} (after axe)`);
  }

  field(spec, kind) {
    if (typeof spec === 'string') return this.page.getByLabel(spec, { exact: false });
    if (spec.selector) return this.page.locator(spec.selector);
    if (spec.label) return this.page.getByLabel(spec.label, { exact: !!spec.exact });
    throw new StepError(`${kind}: give "label" or "selector"`);
  }

  clickable(spec) {
    const p = this.page;
    if (typeof spec === 'string') {
      return p.getByRole('button', { name: spec }).or(p.getByRole('link', { name: spec }));
    }
    if (spec.selector) return p.locator(spec.selector);
    if (spec.button) return p.getByRole('button', { name: spec.button, exact: !!spec.exact });
    if (spec.link) return p.getByRole('link', { name: spec.link, exact: !!spec.exact });
    throw new StepError('click: give a name, or "button", "link" or "selector"');
  }

  async one(locator, what) {
    const n = await locator.count();
    if (n !== 1) {
      throw new StepError(`${what}: ${n === 0 ? 'nothing' : `${n} elements`} on ${this.here()} match (exactly one must)`);
    }
    return locator;
  }

  async text() {
    return this.page.locator('body').innerText();
  }

  async step(s) {
    const [action] = Object.keys(s);
    const arg = s[action];
    switch (action) {
      case 'goto': {
        const r = await this.page.goto(this.url(arg), { waitUntil: 'load' });
        const status = r ? r.status() : 0;
        const want = s.status;
        if (want ? status !== want : !(status >= 200 && status < 300)) {
          throw new StepError(`goto ${arg}: HTTP ${status}, expected ${want || '2xx'}`);
        }
        if (want && status >= 400) this.dropDocumentStatusError(status);
        await this.checked(`goto ${arg}`);
        break;
      }
      case 'click': {
        const target = await this.one(this.clickable(arg), `click ${JSON.stringify(arg)}`);
        this.lastDocument = null;
        // Playwright waits for a navigation the click starts to commit; then the new page loads.
        await target.click();
        await this.page.waitForLoadState('load');
        const label = typeof arg === 'string' ? arg : (arg.button || arg.link || arg.selector);
        if (this.lastDocument) {
          const status = this.lastDocument.status();
          const want = s.status;
          if (want ? status !== want : !(status >= 200 && status < 400)) {
            throw new StepError(`click ${JSON.stringify(arg)}: the page answered HTTP ${status}, expected ${want || '2xx'}`);
          }
          if (status >= 400) this.dropDocumentStatusError(status);
        } else if (s.status) {
          throw new StepError(`click ${JSON.stringify(arg)}: no page was loaded, expected HTTP ${s.status}`);
        }
        if (s.third_party) {
          await this.screenshot(`third party after ${label}`);
          // Its console is not this service's either.
          this.console = [];
          break;
        }
        await this.checked(`after ${label}`);
        break;
      }
      case 'fill': {
        const f = await this.one(this.field(arg, 'fill'), `fill ${JSON.stringify(arg.label || arg.selector)}`);
        await f.fill(String(arg.value ?? ''));
        break;
      }
      case 'check':
      case 'uncheck': {
        const f = await this.one(this.field(arg, action), `${action} ${JSON.stringify(arg)}`);
        if (action === 'check') await f.check(); else await f.uncheck();
        break;
      }
      case 'upload': {
        const f = await this.one(this.field(arg, 'upload'), `upload ${JSON.stringify(arg.label || arg.selector)}`);
        await f.setInputFiles({ name: String(arg.name), mimeType: String(arg.mime || 'application/octet-stream'), buffer: Buffer.from(String(arg.text ?? ''), 'utf8') });
        break;
      }
      case 'select': {
        const f = await this.one(this.field(arg, 'select'), `select ${JSON.stringify(arg.label || arg.selector)}`);
        await f.selectOption(arg.value !== undefined ? { value: String(arg.value) } : { label: String(arg.option) });
        break;
      }
      case 'expect_text': {
        if (!(await this.text()).includes(arg)) {
          throw new StepError(`expect_text: ${JSON.stringify(arg)} is not on ${this.here()}; the page says:\n${(await this.text()).slice(0, 1500)}`);
        }
        break;
      }
      case 'expect_no_text': {
        if ((await this.text()).includes(arg)) {
          throw new StepError(`expect_no_text: ${JSON.stringify(arg)} is on ${this.here()}`);
        }
        break;
      }
      case 'expect_url': {
        if (!new RegExp(arg).test(this.here())) {
          throw new StepError(`expect_url: ${this.here()} does not match /${arg}/`);
        }
        break;
      }
      case 'expect_selector':
      case 'expect_no_selector': {
        const n = await this.page.locator(arg).count();
        if (action === 'expect_selector' ? n === 0 : n > 0) {
          throw new StepError(`${action}: ${arg} matches ${n} element(s) on ${this.here()}`);
        }
        break;
      }
      case 'expect_fits_width': {
        const [scroll, client] = await this.page.evaluate(
          () => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
        if (scroll > client) {
          throw new StepError(`expect_fits_width: ${this.here()} is ${scroll} px wide in a ${client} px viewport (horizontal scrolling)`);
        }
        break;
      }
      case 'expect_zoom': {
        const ratio = await this.page.evaluate(() => window.devicePixelRatio);
        if (ratio !== Number(arg)) {
          throw new StepError(`expect_zoom: ${this.here()} is drawn at ${ratio} device pixels per CSS pixel, expected ${arg}`);
        }
        break;
      }
      case 'press':
        await this.page.keyboard.press(String(arg));
        break;
      case 'expect_focused': {
        const ok = await this.page.evaluate((sel) => !!document.activeElement && document.activeElement.matches(sel), String(arg));
        if (!ok) {
          const what = await this.page.evaluate(() => document.activeElement ? document.activeElement.outerHTML.slice(0, 200) : 'nothing');
          throw new StepError(`expect_focused: ${arg} is not focused on ${this.here()}; focused: ${what}`);
        }
        break;
      }
      case 'viewport':
        await this.page.setViewportSize({ width: arg.width, height: arg.height || 720 });
        break;
      case 'axe':
        await this.runAxe(String(arg));
        break;
      case 'screenshot':
        await this.screenshot(String(arg));
        break;
      case 'probe_outside':
        await this.probeOutside(String(arg));
        break;
      case 'evaluate':
        await this.page.evaluate(String(arg));
        // Let the page report what the script caused (a CSP violation is reported asynchronously).
        await this.page.waitForTimeout(200);
        break;
      case 'download': {
        const target = await this.one(this.clickable(arg), `download ${JSON.stringify(arg)}`);
        const [dl] = await Promise.all([
          this.page.waitForEvent('download', { timeout: STEP_TIMEOUT_MS }),
          target.click(),
        ]);
        const failure = await dl.failure();
        if (failure) throw new StepError(`download ${JSON.stringify(arg)}: ${failure}`);
        const bytes = readFileSync(await dl.path());
        const head = bytes.subarray(0, (s.starts_with || '').length).toString('latin1');
        if (s.starts_with && head !== s.starts_with) {
          throw new StepError(`download ${JSON.stringify(arg)}: the file starts with ${JSON.stringify(head)}, expected ${JSON.stringify(s.starts_with)}`);
        }
        if (s.filename && !new RegExp(s.filename).test(dl.suggestedFilename())) {
          throw new StepError(`download ${JSON.stringify(arg)}: the file is named ${dl.suggestedFilename()}, expected /${s.filename}/`);
        }
        log(`downloaded ${dl.suggestedFilename()} (${bytes.length} bytes)`);
        break;
      }
      default:
        throw new StepError(`unknown step ${JSON.stringify(s)} (see the vocabulary at the top of driver.mjs)`);
    }
    if (!s.third_party) this.consoleClean(`after step ${JSON.stringify(s)}`);
  }

  /** A document answered with an expected error status: Chromium logs that status as a console error. */
  dropDocumentStatusError(status) {
    this.console = this.console.filter((m) => !m.includes(`status of ${status}`));
  }

  async probeOutside(u) {
    const page = await this.context.newPage();
    this.watch(page, true); // the failed loads it causes are the point
    const before = this.blocked.length;
    await page.setContent(`<!DOCTYPE html><html lang="en"><title>probe</title><img alt="" src="${u}">`,
      { waitUntil: 'load' });
    let navigated = null;
    try {
      navigated = await page.goto(u, { timeout: STEP_TIMEOUT_MS });
    } catch (e) {
      navigated = null;
    }
    await page.close();
    const hits = this.blocked.slice(before).filter((b) => b === new URL(u).toString());
    if (navigated || hits.length < 2) {
      throw new StepError(`probe_outside ${u}: ${navigated ? 'the navigation got an answer' : `blocked ${hits.length} of 2 loads`}`);
    }
  }

  async go() {
    const result = { name: this.name, ok: true, error: null, failed_step: null };
    try {
      await this.start(this.browser);
      const steps = this.spec.steps || [];
      for (let i = 0; i < steps.length; i += 1) {
        const s = steps[i];
        try {
          log(`${this.name} ${i + 1}: ${JSON.stringify(s)}`);
          await this.step(s);
        } catch (e) {
          const msg = e instanceof StepError ? e.message : `${e.name}: ${e.message}`;
          result.failed_step = i + 1;
          throw new StepError(`step ${i + 1} ${JSON.stringify(s)}: ${msg}`);
        }
      }
      this.consoleClean('at the end of the journey');
    } catch (e) {
      result.ok = false;
      result.error = e instanceof StepError ? e.message : `${e.name}: ${e.message}`;
      try {
        if (this.page) await this.screenshot('failed');
      } catch { /* the page may be gone */ }
    } finally {
      if (this.context) await this.context.close().catch(() => {});
    }
    return {
      ...result,
      screenshots: this.screenshots,
      axe: this.axe,
      requests: this.requests,
      blocked: this.blocked,
    };
  }
}

async function main() {
  const run = JSON.parse(await readStdin());
  mkdirSync(run.out, { recursive: true });
  log(`screenshots: ${run.out}`);
  const args = ['--disable-background-networking', '--disable-component-update', '--no-first-run',
    '--disable-sync', '--disable-default-apps', '--metrics-recording-only', '--no-pings'];
  if (typeof process.getuid === 'function' && process.getuid() === 0) args.push('--no-sandbox');
  const browser = await chromium.launch({ executablePath: EXECUTABLE, headless: true, args });
  const version = browser.version();
  const counter = { n: 0 };
  const journeys = [];
  try {
    for (const spec of run.journeys) {
      const j = new Journey(run, spec, counter);
      j.browser = browser;
      const r = await j.go();
      log(`${r.name}: ${r.ok ? 'ok' : `FAILED\n${r.error}`}`);
      journeys.push(r);
    }
  } finally {
    await browser.close();
  }
  const report = { ok: journeys.every((j) => j.ok), out: run.out, browser: version, journeys };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

const watchdog = setTimeout(() => {
  log('the run took longer than its limit; giving up');
  process.exit(3);
}, Number(process.env.BROWSER_RUN_TIMEOUT_MS || 300_000));
watchdog.unref();

main().catch((e) => {
  process.stdout.write(`${JSON.stringify({ ok: false, error: `${e.name}: ${e.message}`, journeys: [] })}\n`);
  process.exitCode = 2;
});
