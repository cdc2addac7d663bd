/** Bundle the browser pages into `outdir` (default dist/client); resolves with it. */
export function bundleClient(outdir?: string): Promise<string>;
