import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createZip } from './zip.ts';

/** Builds the Teams app package (manifest.json, color.png, outline.png at the root of a zip). */

export interface TeamsAppPackageOptions {
  /** The bot's Microsoft App ID (`MicrosoftAppId`); also used as the Teams app id. */
  appId: string;
  outFile: string;
  /** Public host name of the bot endpoint (e.g. `sendguard.contoso.com`), listed in `validDomains`. */
  botDomain?: string;
  /** Shown in Teams' app details; replace Microsoft's sample defaults with your organization's pages. */
  websiteUrl?: string;
  privacyUrl?: string;
  termsOfUseUrl?: string;
}

export interface TeamsAppPackage {
  outFile: string;
  manifest: Record<string, unknown>;
  bytes: number;
}

const guid = /^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/;
const hostName = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const placeholder = /\$\{\{([A-Z0-9_]+)\}\}/g;
const asset = (name: string) => new URL(name, import.meta.url);

type Values = Record<string, string | null>;

function substitute(value: unknown, values: Values): unknown {
  if (typeof value === 'string') {
    return value.replace(placeholder, (_, name: string) => {
      const v = values[name];
      if (v === undefined || v === null) throw new Error(`manifest placeholder \${{${name}}} has no value`);
      return v;
    });
  }
  if (Array.isArray(value)) {
    // An array entry that is only an unset optional placeholder is left out (validDomains without a bot domain).
    const kept = value.filter((v) => !(typeof v === 'string' && /^\$\{\{([A-Z0-9_]+)\}\}$/.test(v) && values[v.slice(3, -2)] === null));
    return kept.map((v) => substitute(v, values));
  }
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, values)]));
  return value;
}

/** The manifest template with its `${{NAME}}` placeholders filled in. */
export function renderManifest(template: string, values: Values): Record<string, unknown> {
  const parsed: unknown = JSON.parse(template);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('manifest template is not a JSON object');
  return substitute(parsed, values) as Record<string, unknown>;
}

export function manifestValues(options: TeamsAppPackageOptions): Values {
  if (!guid.test(options.appId)) throw new Error(`appId must be the bot's Microsoft App ID (a GUID), got "${options.appId}"`);
  if (options.botDomain !== undefined && !hostName.test(options.botDomain)) throw new Error(`botDomain must be a host name such as sendguard.contoso.com, got "${options.botDomain}"`);
  const websiteUrl = options.websiteUrl ?? 'https://www.example.com';
  return {
    MICROSOFT_APP_ID: options.appId,
    BOT_DOMAIN: options.botDomain ?? null,
    WEBSITE_URL: websiteUrl,
    PRIVACY_URL: options.privacyUrl ?? `${websiteUrl.replace(/\/$/, '')}/privacy`,
    TERMS_OF_USE_URL: options.termsOfUseUrl ?? `${websiteUrl.replace(/\/$/, '')}/termsofuse`,
  };
}

export async function packageTeamsApp(options: TeamsAppPackageOptions): Promise<TeamsAppPackage> {
  const manifest = renderManifest(await readFile(asset('manifest.json'), 'utf8'), manifestValues(options));
  const zip = createZip([
    { name: 'manifest.json', data: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8') },
    { name: 'color.png', data: await readFile(asset('color.png')) },
    { name: 'outline.png', data: await readFile(asset('outline.png')) },
  ]);
  await mkdir(dirname(options.outFile), { recursive: true });
  await writeFile(options.outFile, zip);
  return { outFile: options.outFile, manifest, bytes: zip.length };
}
