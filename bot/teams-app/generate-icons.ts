import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodePng } from './png.ts';
import { colorIconPixels, outlineIconPixels } from './shield-icon.ts';

/** Regenerates color.png and outline.png beside this file: `node --import tsx bot/teams-app/generate-icons.ts`. */
const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));

writeFileSync(here('color.png'), encodePng(192, 192, colorIconPixels(192)));
writeFileSync(here('outline.png'), encodePng(32, 32, outlineIconPixels(32)));
process.stdout.write('wrote bot/teams-app/color.png and bot/teams-app/outline.png\n');
