import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import * as vl from 'vega-lite';

/** A rendered chart: the SVG text and its PNG rendering (2x for sharpness). */
export interface RenderedChart {
  svg: string;
  png: Buffer;
}

/** Render a Vega-Lite spec to SVG headlessly (no canvas), then SVG to PNG with resvg. */
export async function renderChart(spec: vl.TopLevelSpec): Promise<RenderedChart> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const png = new Resvg(svg, {
      background: 'white',
      fitTo: { mode: 'zoom', value: 2 },
      font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    })
      .render()
      .asPng();
    return { svg, png };
  } finally {
    view.finalize();
  }
}

/** One point of a line chart. */
export interface SeriesPoint {
  x: number;
  y: number;
  series: string;
}

/** A multi-series line chart spec with sensible defaults for training curves. */
export function lineChartSpec(
  title: string,
  points: SeriesPoint[],
  axes: { x: string; y: string; yScale?: 'linear' | 'log'; yDomain?: [number, number] },
): vl.TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 520,
    height: 220,
    background: 'white',
    data: { values: points },
    mark: { type: 'line', point: points.length < 60, tooltip: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: axes.x },
      y: {
        field: 'y',
        type: 'quantitative',
        title: axes.y,
        scale: { type: axes.yScale ?? 'linear', ...(axes.yDomain ? { domain: axes.yDomain } : { zero: false }) },
      },
      color: { field: 'series', type: 'nominal', title: null },
    },
  } as vl.TopLevelSpec;
}
