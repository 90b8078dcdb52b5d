import type { TopLevelSpec } from 'vega-lite';

// vega and vega-lite load in ~1 s: import them when a chart is drawn, not at CLI start-up.
const loadVega = () => Promise.all([import('vega'), import('vega-lite')]);

/** Shared look: system sans-serif (no web fonts), white background, readable sizes. */
const CONFIG = {
  font: 'sans-serif',
  background: 'white',
  view: { continuousWidth: 520, continuousHeight: 320 },
  title: { fontSize: 15, anchor: 'start' as const },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 400 },
};

/** Compiles a Vega-Lite spec and renders it to an SVG string in Node (no browser, no canvas). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const withConfig = { ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec;
  const [vega, vl] = await loadVega();
  const compiled = vl.compile(withConfig).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
