import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where every bench writes its tables unless told otherwise: `bench/results/`. */
export const DEFAULT_RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');

/** Writes `<name>.md` (the table a reader wants) and `<name>.json` (everything measured) side by side. */
export async function writeResultFiles(outDir: string, name: string, markdown: string, report: unknown): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, `${name}.md`), markdown);
  await writeFile(join(outDir, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
}
