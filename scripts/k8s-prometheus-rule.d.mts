// Types for k8s-prometheus-rule.mjs, which test/ops-kubernetes.e2e-spec.ts imports to compare the committed file.

/** The source: the alerting rules Prometheus loads with `rule_files`. */
export const ALERTS: string;
/** The generated PrometheusRule, relative to the repository root. */
export const PROMETHEUS_RULE: string;
/** The PrometheusRule's text, as the script writes it. */
export function prometheusRule(): Promise<string>;
