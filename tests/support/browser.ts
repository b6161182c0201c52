import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { projectRoot } from '../../src/project-root';
import { isExecutableFile } from '../../tooling/temporal/servers';

/**
 * Headless Chromium for tests that look at a page as a person would. It is
 * Debian's `chromium`, driven by playwright-core: `npx playwright install`
 * downloads its browsers from a host of its own, which machines that reach only
 * package registries cannot.
 */
export const chromiumPathVariable = 'CHROMIUM_PATH';
export const debianChromiumPath = '/usr/bin/chromium';

/** Screenshots a test leaves behind for a person (and CI) to look at; gitignored. */
export const webUiArtifactsDir = path.join(projectRoot, 'artifacts', 'web-ui');

// Nothing but the page under test: no sync, component updates or other calls home from the browser.
const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export class BrowserUnavailableError extends Error {
  override readonly name = 'BrowserUnavailableError';
}

export function resolveChromium(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[chromiumPathVariable];
  const executable = fromEnv ? path.resolve(fromEnv) : debianChromiumPath;
  if (isExecutableFile(executable)) return executable;
  throw new BrowserUnavailableError(
    fromEnv
      ? `${chromiumPathVariable}=${fromEnv} is not an executable file. Point it at a Chromium or Chrome executable, ` +
          `or unset it to use Debian's ${debianChromiumPath}.`
      : `No Chromium at ${debianChromiumPath}: this test drives a real browser. Install Debian's package:\n` +
          `  apt-get update && apt-get install -y chromium\n` +
          `or set ${chromiumPathVariable} to a Chromium or Chrome executable. ` +
          `('npx playwright install' does not work where only package registries are reachable.)`,
  );
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: resolveChromium(), headless: true, args: chromiumArgs });
}

/** A browser context that can reach only this machine: any other request is aborted before it leaves. */
export async function newLoopbackContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 1800 } });
  await context.route(
    (url) => !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname),
    (route) => route.abort('blockedbyclient'),
  );
  return context;
}

/** Empties artifacts/web-ui/, so what it holds after a run is that run's screenshots only. */
export function clearScreenshots(): void {
  rmSync(webUiArtifactsDir, { recursive: true, force: true });
  mkdirSync(webUiArtifactsDir, { recursive: true });
}

/** Saves a full-page screenshot under artifacts/web-ui/ and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(webUiArtifactsDir, { recursive: true });
  const file = path.join(webUiArtifactsDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
