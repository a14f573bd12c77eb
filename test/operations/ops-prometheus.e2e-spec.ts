import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getAsAdmin, send, startHarness, type Harness } from '../support/gateway-harness.js';
import { ROOT, scratchDir } from '../support/processes.js';

/** `npm test` sets TEST_PROMTOOL when promtool is on PATH (and fails under CI=true when it is not). */
const describePromtool = process.env.TEST_PROMTOOL ? describe : describe.skip;

const ALERTS = join(ROOT, 'deploy/prometheus/alerts.yml');
const ALERT_TESTS = join(ROOT, 'deploy/prometheus/alerts.test.yml');
const DASHBOARD = join(ROOT, 'deploy/grafana/gateway.json');

function promtool(args: string[], input?: string) {
  const run = spawnSync('promtool', args, { input, encoding: 'utf8' });
  return { code: run.status, output: `${run.stdout}${run.stderr}` };
}

interface Dashboard {
  templating: { list: Array<{ definition?: string }> };
  panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
}
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const dashboardQueries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

/** Every `expr:` of the rules file (block scalars included). */
function ruleExpressions(yaml: string): string[] {
  const exprs: string[] = [];
  const lines = yaml.split('\n');
  lines.forEach((line, i) => {
    const match = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (!match) return;
    if (match[2] !== '|') return exprs.push(match[2]);
    const body: string[] = [];
    for (let j = i + 1; j < lines.length && (lines[j].trim() === '' || lines[j].search(/\S/) > match[1].length); j++) body.push(lines[j]);
    exprs.push(body.join('\n'));
  });
  return exprs;
}

/** Metric names a PromQL text uses: the gateway's own and the Node.js process series it exports. */
function metricNames(promql: string): string[] {
  return [...promql.matchAll(/\b(?:gateway|process|nodejs)_[a-zA-Z0-9_]*/g)].map((m) => m[0]);
}

/** Identifiers right before a label matcher or a range: metric names, whatever their prefix. */
function selectorNames(promql: string): string[] {
  return [...promql.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{[]/g)]
    .map((m) => m[1])
    .filter((name) => !['by', 'without', 'on', 'ignoring', 'group_left', 'group_right'].includes(name));
}

/** The names a scrape exports: each sample's, and each histogram's `_bucket`/`_sum`/`_count`. */
function exportedNames(scrape: string): Set<string> {
  const names = new Set<string>();
  for (const line of scrape.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      names.add(type[1]);
      if (type[2] === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${type[1]}${suffix}`);
    } else if (line !== '' && !line.startsWith('#')) {
      names.add(/^[^{\s]+/.exec(line)![0]);
    }
  }
  return names;
}

describe('Prometheus rules and Grafana dashboard against a live gateway', () => {
  let h: Harness;
  let scrape: string;

  beforeAll(async () => {
    // sabre's API is a closed port: the gateway answers 502 upstream_unreachable itself.
    h = await startHarness({ SABRE_API_URL: 'http://127.0.0.1:9/api' });
    expect((await getAsAdmin(h, '/prio/products')).status).toBe(200);
    expect((await getAsAdmin(h, '/prio/status/503')).status).toBe(503);
    expect((await getAsAdmin(h, '/sabre/flights')).status).toBe(502);
    expect((await send(h.url, '/prio/products', { headers: { 'x-api-key': 'not-a-key' } })).status).toBe(401);
    scrape = await (await fetch(`${h.url}/metrics`)).text();
  });
  afterAll(() => h.close());

  it("counts the gateway's own problems apart from the provider's 5xx (gateway_proxy_errors_total)", () => {
    expect(scrape).toContain('gateway_proxy_errors_total{provider="sabre",code="upstream_unreachable",status="502"} 1');
    expect(scrape).toContain('gateway_proxy_errors_total{provider="-",code="unauthenticated",status="401"} 1');
    expect(scrape).not.toMatch(/gateway_proxy_errors_total\{provider="prio"/);
    expect(scrape).toContain('gateway_proxied_requests_total{provider="prio",method="GET",status_class="5xx"} 1');
  });

  it('every metric the alerting rules and the dashboard use is one the gateway exports', () => {
    const exported = exportedNames(scrape);
    const texts = [
      ...ruleExpressions(readFileSync(ALERTS, 'utf8')),
      ...dashboardQueries.map((q) => q.expr),
      ...dashboard.templating.list.flatMap((v) => (v.definition ? [v.definition] : [])),
    ];
    expect(texts.length).toBeGreaterThan(20);
    const used = new Set(texts.flatMap((t) => [...metricNames(t), ...selectorNames(t)]));
    expect(used.size).toBeGreaterThan(15);
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
  });

  it("watches the callers' series: keys loaded and reloads, rate limits and their degraded mode", () => {
    const callers = ['gateway_keys_loaded', 'gateway_keys_reload_failed', 'gateway_rate_limit_degraded', 'gateway_rate_limited_total'];
    const alerted = new Set(ruleExpressions(readFileSync(ALERTS, 'utf8')).flatMap(metricNames));
    const charted = new Set(dashboardQueries.flatMap((q) => metricNames(q.expr)));
    expect(callers.filter((name) => !alerted.has(name) || !charted.has(name))).toEqual([]);
    expect(callers.filter((name) => !exportedNames(scrape).has(name))).toEqual([]);
  });

  describePromtool('promtool', () => {
    const scratch = scratchDir('promtool-');
    afterAll(() => scratch.remove());

    it('checks the alerting rules', () => {
      const { code, output } = promtool(['check', 'rules', ALERTS]);
      expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining('SUCCESS: 13 rules found') });
    });

    it('passes the rules unit tests on synthetic series', () => {
      const { code, output } = promtool(['test', 'rules', ALERT_TESTS]);
      expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining('SUCCESS') });
    });

    it("parses every dashboard query (as recording rules, Grafana's variables filled in)", () => {
      const rules = dashboardQueries.map(({ expr }, i) => {
        const promql = expr.replaceAll('$__rate_interval', '5m').replaceAll('$instance', '.*');
        return `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(promql)}\n`;
      });
      const file = join(scratch.dir, 'dashboard-queries.yml');
      writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('')}`);
      const { code, output } = promtool(['check', 'rules', file]);
      expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining(`SUCCESS: ${dashboardQueries.length} rules found`) });
    });

    it("lints a live scrape clean (regression: prom-client's three nodejs_active_*_total gauges made it exit 3)", () => {
      expect(promtool(['check', 'metrics'], scrape)).toEqual({ code: 0, output: '' });
    });
  });
});
