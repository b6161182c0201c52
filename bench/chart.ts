/**
 * The report's charts: Vega-Lite specs compiled to Vega and rendered to SVG
 * headless (no browser, no canvas: renderer 'none' only builds the scene
 * graph that toSVG serializes).
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** One point of a line chart: a series (its colour) in a variant (its dash, e.g. the database) at x. */
export interface SeriesPoint {
  series: string;
  variant: string;
  x: number;
  y: number;
}

/** One bar of a grouped bar chart: `bar` within `group`. */
export interface GroupedBar {
  group: string;
  bar: string;
  value: number;
}

const width = 560;
const height = 300;
const font = 'Helvetica, Arial, sans-serif';

const config = {
  font,
  background: 'white',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 0, gridColor: '#e5e5e5' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 0, orient: 'bottom', direction: 'horizontal' },
  title: { fontSize: 14, anchor: 'start' },
} as const;

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Lines with a point at each measured x: one colour per series, one dash per variant (solid for the first), so
 * the pairs read without colour too. x on a log scale when the levels double.
 */
export function lineChartSpec(options: {
  title: string;
  subtitle?: string;
  xTitle: string;
  yTitle: string;
  points: readonly SeriesPoint[];
  seriesTitle?: string;
  variantTitle?: string;
  logX?: boolean;
}): TopLevelSpec {
  const seriesOrder = [...new Set(options.points.map((point) => point.series))];
  const variantOrder = [...new Set(options.points.map((point) => point.variant))];
  const dashes = [
    [1, 0],
    [6, 3],
    [2, 2],
    [8, 2, 2, 2],
  ];
  const xs = [...new Set(options.points.map((point) => point.x))].sort((a, b) => a - b);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: options.title, ...(options.subtitle ? { subtitle: options.subtitle } : {}) },
    width,
    height,
    config,
    data: { values: options.points.map((point) => ({ ...point })) },
    mark: { type: 'line', point: true, strokeWidth: 2 },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: options.xTitle,
        scale: options.logX ? { type: 'log', base: 2 } : { zero: false },
        axis: { values: xs, format: 'd' },
      },
      y: { field: 'y', type: 'quantitative', title: options.yTitle, scale: { zero: true } },
      color: { field: 'series', type: 'nominal', title: options.seriesTitle ?? null, sort: seriesOrder },
      strokeDash: {
        field: 'variant',
        type: 'nominal',
        title: options.variantTitle ?? null,
        legend: {
          symbolType: 'stroke',
          symbolStrokeWidth: 2,
          symbolSize: 300,
          // The dash legend has no colour to borrow a stroke from (symbolStrokeColor is ignored here). Vega-Lite
          // passes `encode` on to Vega's legend, though its types leave it out.
          ...({ encode: { symbols: { update: { stroke: { value: '#444' } } } } } as object),
        },
        scale: { domain: variantOrder, range: variantOrder.map((_, index) => dashes[index % dashes.length] ?? [1, 0]) },
      },
      detail: { field: 'variant', type: 'nominal' },
      tooltip: [
        { field: 'series', type: 'nominal' },
        { field: 'variant', type: 'nominal' },
        { field: 'x', type: 'quantitative' },
        { field: 'y', type: 'quantitative' },
      ],
    },
  };
}

/** Bars grouped side by side (e.g. a query per group, a store per bar). */
export function groupedBarSpec(options: {
  title: string;
  subtitle?: string;
  yTitle: string;
  bars: readonly GroupedBar[];
  groupOrder?: readonly string[];
  barOrder?: readonly string[];
}): TopLevelSpec {
  const groupOrder = options.groupOrder ?? [...new Set(options.bars.map((bar) => bar.group))];
  const barOrder = options.barOrder ?? [...new Set(options.bars.map((bar) => bar.bar))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: options.title, ...(options.subtitle ? { subtitle: options.subtitle } : {}) },
    width,
    height,
    config,
    data: { values: options.bars.map((bar) => ({ ...bar })) },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'group', type: 'nominal', title: null, sort: [...groupOrder], axis: { labelAngle: 0 } },
      xOffset: { field: 'bar', type: 'nominal', sort: [...barOrder] },
      y: { field: 'value', type: 'quantitative', title: options.yTitle },
      color: { field: 'bar', type: 'nominal', title: null, sort: [...barOrder] },
      tooltip: [
        { field: 'group', type: 'nominal' },
        { field: 'bar', type: 'nominal' },
        { field: 'value', type: 'quantitative' },
      ],
    },
  };
}
