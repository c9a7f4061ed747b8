// Shared set-up of the browser tests: free ports, waiting for a server, the
// palazzo process, Debian's Chromium through playwright-core, and axe-core.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** The palazzo binary under test (scripts/test sets PALAZZO_BIN). */
export const BIN = process.env.PALAZZO_BIN;
const CHROMIUM = process.env.PALAZZO_CHROMIUM || '/usr/bin/chromium';

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Resolves when `url` answers 2xx; throws after `ms`. */
export async function waitFor(url, ms = 60000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server did not answer ${url}`);
}

/** Starts `palazzo demo` with `args` on a free port; returns { server, base }. */
export async function startDemo(args) {
  assert.ok(BIN, 'PALAZZO_BIN must name the palazzo binary');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(BIN, ['demo', ...args, '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, RUST_LOG: 'warn' },
  });
  await waitFor(`${base}/healthz`);
  return { server, base };
}

/** Launches Debian's Chromium, headless, with nothing reaching the network. */
export function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/** Asserts zero WCAG 2.1 A/AA violations (axe-core) on the page as it is. */
export async function assertAccessible(page, label = page.url()) {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  const summary = result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(' | ')}`);
  assert.deepEqual(summary, [], `axe violations on ${label}`);
  assert.ok(result.passes.length > 10, `axe actually ran on ${label}`);
}
