/** `npm run config:doc`: prints the configuration table for the README from src/config.ts itself. */
import { describeConfig } from '../config';

const rows = describeConfig().map((k) => `| \`${k.key}\` | \`${k.default}\` | ${k.doc} |`);
console.log(['| key | default | meaning |', '|---|---|---|', ...rows].join('\n'));
