import type uPlot from 'uplot';

/**
 * Line charts by day, drawn with uPlot (about 50 kB), which is loaded on the screens that draw
 * charts and nowhere else (a separate chunk, fetched on first use). Colours come from the
 * theme's CSS custom properties, so a chart follows light and dark.
 */
export interface ChartSeries {
  label: string;
  values: (number | null)[];
}

const PALETTE = ['--chart-1', '--chart-2', '--chart-3', '--chart-4', '--chart-5', '--chart-6'];

export async function drawChart(target: HTMLElement, days: string[], series: ChartSeries[]): Promise<uPlot> {
  const { default: UPlot } = await import('uplot');
  const css = getComputedStyle(document.documentElement);
  const color = (v: string) => css.getPropertyValue(v).trim() || '#888';
  const axis = { stroke: color('--fg-muted'), grid: { stroke: color('--border'), width: 1 }, ticks: { stroke: color('--border') } };
  const xs = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
  target.replaceChildren();
  const width = Math.max(280, target.clientWidth || 640);
  return new UPlot(
    {
      width,
      height: 220,
      tzDate: (ts) => UPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      series: [
        { label: 'Day' },
        ...series.map((s, i) => ({ label: s.label, stroke: color(PALETTE[i % PALETTE.length] as string), width: 2 })),
      ],
      axes: [axis, axis],
      legend: { live: false },
    },
    [xs, ...series.map((s) => s.values)],
    target,
  );
}
