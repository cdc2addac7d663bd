import { promises as fs } from 'node:fs';
import path from 'node:path';
import { publicDir } from './assets.js';

/** What differs between the dashboard's pages; everything else is `public/page.html`, their one template. */
export interface PageSpec {
  /** The title before ` · voxseg dashboard`. */
  title: string;
  /** Browser libraries the page's code uses, as names served under `/lib/` ({@link libraryFiles}). */
  libraries: readonly string[];
}

const VEGA = ['vega.min.js', 'vega-lite.min.js', 'vega-embed.min.js'];
const NIIVUE = ['niivue.umd.js'];

/**
 * The pages, by name: the URL (`/` for `index`, else `/<name>`) and the bundle
 * `/static/<name>.js` (client/<name>-page.ts).
 */
export const PAGES: Readonly<Record<string, PageSpec>> = {
  index: { title: 'Runs', libraries: [] },
  run: { title: 'Run', libraries: VEGA },
  group: { title: 'Cross-validation', libraries: VEGA },
  viewer: { title: 'Predictions', libraries: NIIVUE },
  infer: { title: 'In-browser inference', libraries: NIIVUE },
};

/** Fill the page template for page `name` (one of {@link PAGES}). */
export function renderPage(template: string, name: string): string {
  const spec = PAGES[name];
  if (!spec) throw new Error(`@voxseg/dashboard: unknown page ${JSON.stringify(name)}`);
  const libraries = spec.libraries.map((lib) => `<script src="/lib/${lib}"></script>`).join('\n');
  // Function replacements: a `$` in a value is never read as a replacement pattern.
  return template
    .replace('{{title}}', () => spec.title)
    .replace(/\{\{libraries\}\}\n/, () => (libraries ? `${libraries}\n` : ''))
    .replace('{{page}}', () => name);
}

/** Read `public/page.html` (each time: the server sends pages uncached, so an edited template shows on reload). */
export async function readPageTemplate(): Promise<string> {
  return fs.readFile(path.join(publicDir(), 'page.html'), 'utf8');
}
