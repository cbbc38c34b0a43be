import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { AdaptiveCard } from '../../../bot/cards/adaptive-card.ts';

/**
 * Renders cards with the `adaptivecards` renderer and the Teams light host config in headless
 * Chromium, the way Teams draws them, and reads back what a person would see and click.
 */

export const chromiumPath = '/usr/bin/chromium';
export const artifactsDir = fileURLToPath(new URL('../../artifacts/cards/', import.meta.url));

/** Whether the render tests run; in CI a missing browser is a failure, not a skip. */
export function chromiumStatus(): { available: true } | { available: false; reason: string } {
  if (existsSync(chromiumPath)) return { available: true };
  const reason = `${chromiumPath} not found; install it with: apt-get update && apt-get install -y chromium`;
  if (process.env.CI) throw new Error(`card rendering needs Chromium in CI: ${reason}`);
  return { available: false, reason };
}

const require = createRequire(import.meta.url);
const rendererDist = join(dirname(require.resolve('adaptivecards/package.json')), 'dist');

const assets: Record<string, { file: string; type: string }> = {
  '/': { file: fileURLToPath(new URL('render-page.html', import.meta.url)), type: 'text/html; charset=utf-8' },
  '/adaptivecards.min.js': { file: join(rendererDist, 'adaptivecards.min.js'), type: 'text/javascript; charset=utf-8' },
  '/adaptivecards.css': { file: join(rendererDist, 'adaptivecards.css'), type: 'text/css; charset=utf-8' },
  '/host-config.json': { file: fileURLToPath(new URL('../../fixtures/schemas/teams-host-config-light.json', import.meta.url)), type: 'application/json' },
};

function serveAssets(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const asset = assets[new URL(req.url ?? '/', 'http://localhost').pathname];
    if (!asset) return void res.writeHead(404).end();
    readFile(asset.file).then(
      (body) => res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-store' }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` }));
  });
}

export interface ExecutedAction {
  type: string;
  title: string;
  verb?: string;
  data?: Record<string, unknown>;
  url?: string;
}

export interface RenderedCard {
  /** Titles of every rendered button, in order. */
  buttons: string[];
  /** The card's visible text. */
  text: string;
  /** Problems the renderer reports when it validates the card. */
  failures: string[];
  screenshot: string;
}

export interface CardRenderer {
  page: Page;
  render(card: AdaptiveCard, name: string): Promise<RenderedCard>;
  /** Clicks the button with this exact title and returns the actions the card executed. */
  click(title: string): Promise<ExecutedAction[]>;
  close(): Promise<void>;
}

const launchArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function startCardRenderer(): Promise<CardRenderer> {
  const { server, url } = await serveAssets();
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: chromiumPath, args: launchArgs });
    const page = await browser.newPage({ viewport: { width: 900, height: 1200 }, deviceScaleFactor: 2 });
    await page.goto(url);
    await mkdir(artifactsDir, { recursive: true });
    const opened = browser;
    return {
      page,
      render: (card, name) => renderOn(page, card, name),
      click: async (title) => {
        await page.locator('#root button.ac-pushButton', { hasText: new RegExp(`^${escapeRegExp(title)}$`) }).click();
        return page.evaluate(() => (globalThis as unknown as { executed: ExecutedAction[] }).executed);
      },
      close: async () => {
        await opened.close();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  } catch (err) {
    await browser?.close();
    server.close();
    throw err;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function renderOn(page: Page, card: AdaptiveCard, name: string): Promise<RenderedCard> {
  const width = card.msteams?.width === 'Full' ? 720 : 520;
  const { failures } = await page.evaluate(
    ([json, w]) => (globalThis as unknown as { renderCard: (c: unknown, w: number) => Promise<{ failures: string[] }> }).renderCard(json, w),
    [card, width] as const,
  );
  const screenshot = join(artifactsDir, `${name}.png`);
  await page.locator('#frame').screenshot({ path: screenshot });
  const buttons = await page.locator('#root button.ac-pushButton').allTextContents();
  const text = await page.locator('#root').innerText();
  return { buttons: buttons.map((b) => b.trim()), text, failures, screenshot };
}
