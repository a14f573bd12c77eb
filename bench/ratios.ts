import { median } from './bench-context.js';

/** The value below which a share `q` of `values` lies, interpolated between neighbours. */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  return sorted[low] + (sorted[Math.min(low + 1, sorted.length - 1)] - sorted[low]) * (at - low);
}

export const percent = (ratio: number) => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)} %`;

/** The median of paired rounds' ratios with its quartiles and range: the figure a "within N %" check reads, with its spread. */
export function spread(label: string, ratios: number[], bound = 0.03): string {
  const within = ratios.filter((r) => Math.abs(r - 1) <= bound).length;
  return (
    `${label}: median of the rounds' ratios ${median(ratios).toFixed(3)} (${percent(median(ratios))}); ` +
    `quartiles ${quantile(ratios, 0.25).toFixed(3)}–${quantile(ratios, 0.75).toFixed(3)}, ` +
    `range ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}; ${within} of ${ratios.length} rounds within ±${Math.round(bound * 100)} %`
  );
}
