import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../db/client.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string | null;
    postgresUrl: string | null;
    /** The run's directory for data dirs of servers under test, removed when the run ends. */
    testDataRoot: string;
  }
}

export function postgresUrlFromEnv(): string | null {
  return process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || null;
}

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * One directory for the run's data dirs (test processes may end without a chance to clean up, so
 * the run removes it); on PostgreSQL, one migrated template database per run, which each test
 * file clones.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataRoot = mkdtempSync(path.join(tmpdir(), 'sendguard-test-'));
  project.provide('testDataRoot', dataRoot);
  const removeDataRoot = () => rmSync(dataRoot, { recursive: true, force: true });
  const url = postgresUrlFromEnv();
  project.provide('postgresUrl', url);
  if (!url) {
    project.provide('templateDatabase', null);
    return async () => removeDataRoot();
  }
  const name = `sendguard_tpl_${randomBytes(4).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const template = await openDatabase({ databaseUrl: withDatabase(url, name), dataDir: 'memory' });
  await template.close();
  project.provide('templateDatabase', name);
  return async () => {
    const clones = await admin<{ datname: string }[]>`select datname from pg_database where datname like ${`${name}%`}`;
    for (const { datname } of clones) await admin.unsafe(`drop database if exists ${datname} with (force)`);
    await admin.end();
    removeDataRoot();
  };
}
