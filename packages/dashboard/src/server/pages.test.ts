import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { libraryFiles } from './assets.js';
import { PAGES, readPageTemplate, renderPage } from './pages.js';

describe('dashboard pages from one template', () => {
  it('every page gets its title, its libraries and its bundle, nothing left unfilled', async () => {
    const template = await readPageTemplate();
    for (const [name, spec] of Object.entries(PAGES)) {
      const html = renderPage(template, name);
      expect(html, name).not.toContain('{{');
      expect(html, name).toContain(`<title>${spec.title} · voxseg dashboard</title>`);
      expect([...html.matchAll(/<script src="\/lib\/([^"]+)"><\/script>/g)].map((m) => m[1]), name).toEqual([...spec.libraries]);
      expect(html.trimEnd().endsWith(`<script src="/static/${name}.js"></script>\n</body>\n</html>`), name).toBe(true);
    }
    // The run page as it was written out by hand before the template.
    expect(renderPage(template, 'run')).toBe(
      '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Run · voxseg dashboard</title>\n<link rel="stylesheet" href="/static/style.css">\n' +
        '<script src="/lib/vega.min.js"></script>\n<script src="/lib/vega-lite.min.js"></script>\n<script src="/lib/vega-embed.min.js"></script>\n</head>\n<body>\n' +
        '<header><h1>voxseg dashboard</h1><a id="home" href="/">runs</a><span id="where"></span></header>\n<main id="app"><p class="muted">loading…</p></main>\n' +
        '<script src="/static/run.js"></script>\n</body>\n</html>\n',
    );
    expect(renderPage(template, 'index')).not.toContain('/lib/');
    expect(() => renderPage(template, 'nope')).toThrow('@voxseg/dashboard: unknown page "nope"');
  });

  it('names only served libraries, and a page for every client bundle', () => {
    const served = Object.keys(libraryFiles());
    for (const spec of Object.values(PAGES)) for (const lib of spec.libraries) expect(served).toContain(lib);
    const bundles = readdirSync(new URL('../../client/', import.meta.url)).filter((f) => f.endsWith('-page.ts')).map((f) => f.slice(0, -8));
    expect(Object.keys(PAGES).sort()).toEqual(bundles.sort());
  });
});
