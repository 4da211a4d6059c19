/**
 * Writes docs/settings.md from the settings catalog (`npm run settings-doc`); a unit test
 * checks that the file is what the catalog says.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { settingsMarkdown } from './settings-doc.ts';

const target = fileURLToPath(new URL('../../../docs/settings.md', import.meta.url));
await writeFile(target, settingsMarkdown());
console.error(`wrote ${target}`);
