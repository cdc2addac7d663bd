// Vega-Lite line charts that are updated in place as events arrive.

export interface ChartPoint {
  x: number;
  y: number;
  series: string;
  /** Optional band (mean ± std) for cv groups. */
  lo?: number;
  hi?: number;
}

export interface ChartOptions {
  title: string;
  x: string;
  y: string;
  yScale?: 'linear' | 'log';
  yDomain?: [number, number];
  /** Draw a mean ± std band from `lo`/`hi` under the lines. */
  band?: boolean;
  /** Series drawn thin and faint (raw values under a smoothed line). */
  faint?: string[];
  /** Fixed colours per series. */
  colours?: Record<string, string>;
}

/**
 * A chart in `el`: `update(points)` replaces its data and re-renders (vega handles the rest).
 * After each render `el.dataset.points` holds the number of points drawn, which the browser
 * tests read.
 */
export class LiveChart {
  private view: VegaView | undefined;
  private ready: Promise<void> | undefined;
  private pending: ChartPoint[] | null = null;
  private rendering = false;

  constructor(private readonly el: HTMLElement, private readonly opts: ChartOptions) {
    el.classList.add('chart');
    el.dataset.points = '0';
    el.innerHTML = `<p class="muted">${opts.title}: no data yet</p>`;
  }

  update(points: ChartPoint[]): void {
    this.pending = points;
    void this.flush();
  }

  private async flush(): Promise<void> {
    if (this.rendering) return;
    this.rendering = true;
    try {
      // The chart is made with its first points: vega warns about empty scales otherwise.
      if (!this.ready) {
        if (!this.pending?.length) return;
        this.el.innerHTML = '';
        const first = this.pending;
        this.pending = null;
        this.ready = vegaEmbed(this.el, spec(this.opts, first), { actions: { export: true, source: false, compiled: false, editor: false }, renderer: 'svg' }).then((r) => {
          this.view = r.view;
          this.el.dataset.points = String(first.length);
        });
      }
      await this.ready;
      while (this.pending) {
        const pts = this.pending;
        this.pending = null;
        await this.view!.data('values', pts).runAsync();
        this.el.dataset.points = String(pts.length);
      }
    } finally {
      this.rendering = false;
    }
  }
}

function spec(o: ChartOptions, values: ChartPoint[]): unknown {
  const colour = o.colours
    ? { field: 'series', type: 'nominal', title: null, scale: { domain: Object.keys(o.colours), range: Object.values(o.colours) } }
    : { field: 'series', type: 'nominal', title: null };
  const x = { field: 'x', type: 'quantitative', title: o.x };
  const y = { field: 'y', type: 'quantitative', title: o.y, scale: { type: o.yScale ?? 'linear', ...(o.yDomain ? { domain: o.yDomain } : { zero: false }) } };
  const faint = o.faint ?? [];
  const layers: unknown[] = [];
  if (o.band) {
    layers.push({ mark: { type: 'area', opacity: 0.2 }, transform: [{ filter: 'isValid(datum.lo)' }], encoding: { x, y: { field: 'lo', type: 'quantitative', title: o.y }, y2: { field: 'hi' }, color: colour } });
  }
  layers.push({
    mark: { type: 'line', tooltip: true, clip: true },
    encoding: {
      x,
      y,
      color: colour,
      opacity: { condition: { test: `indexof(${JSON.stringify(faint)}, datum.series) >= 0`, value: 0.3 }, value: 1 },
      strokeWidth: { condition: { test: `indexof(${JSON.stringify(faint)}, datum.series) >= 0`, value: 1 }, value: 2 },
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: o.title,
    width: 'container',
    height: 220,
    autosize: { type: 'fit-x', contains: 'padding' },
    data: { name: 'values', values },
    layer: layers,
  };
}
