export { encodePng, crc32 } from './png.js';
export { renderChart, lineChartSpec, type RenderedChart, type SeriesPoint } from './charts.js';
export { page, esc, metricsTable, type EvaluationJson } from './html.js';
export { readEvents, curveSeries, writeRunReport, type RunReportFiles } from './training-report.js';
export { renderCaseOverlay, centreOf, intensityWindow, LABEL_COLOURS, type OverlayInput } from './overlay.js';
export { formatEvaluationTable } from './evaluation-table.js';
