import { readFileSync } from 'node:fs';

/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): the functions with the most self time,
 * self time per area (gateway code, each package, Node internals, GC), and the inclusive time of
 * the gateway's own functions. `node dist/bench/profile-summary.js <file> [top]`.
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Row {
  name: string;
  ms: number;
  /** Share of the busy (non-idle) time. */
  pct: number;
}

export interface ProfileSummary {
  wallMs: number;
  busyMs: number;
  idleMs: number;
  topSelf: Row[];
  byArea: Row[];
  /** Inclusive time of functions under apps/ and libs/ (a function counted once per sample). */
  ownInclusive: Row[];
}

const repoPath = (url: string) => url.replace(/^file:\/\//, '').replace(/^.*?\/dist\//, '');

function label(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  const where = frame.url.includes('/node_modules/')
    ? frame.url.slice(frame.url.lastIndexOf('/node_modules/') + 14)
    : frame.url.startsWith('node:')
      ? frame.url
      : repoPath(frame.url);
  return `${name} ${where}:${frame.lineNumber + 1}`;
}

function area(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native / V8 builtins)';
  if (url.startsWith('node:')) return 'node: internals';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split('/');
    return `pkg ${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const path = repoPath(url);
  if (path.startsWith('apps/')) return `gateway ${path.split('/').slice(-2).join('/')}`;
  if (path.startsWith('libs/')) return `lib ${path.split('/').slice(1, 2).join('/')}`;
  return path;
}

const isOwn = (frame: CallFrame) => /\/dist\/(apps|libs)\//.test(frame.url);

/** Only samples taken between these times, in ms since the profile started. */
export interface ProfileWindow {
  fromMs: number;
  toMs: number;
}

export function summariseProfile(profile: CpuProfile, top = 25, window?: ProfileWindow): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time before sample i: charge it to that sample's node.
  let atUs = 0;
  let firstUs = Infinity;
  let lastUs = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    atUs += delta;
    if (window && (atUs < window.fromMs * 1000 || atUs > window.toMs * 1000)) return;
    firstUs = Math.min(firstUs, atUs - delta);
    lastUs = atUs;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });

  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let idleUs = 0;
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    totalUs += us;
    if (node.callFrame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const name = label(node.callFrame);
    self.set(name, (self.get(name) ?? 0) + us);
    const a = area(node.callFrame);
    areas.set(a, (areas.get(a) ?? 0) + us);
    // Inclusive time of our own functions: walk up once, each function once per stack.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)!.callFrame;
      if (!isOwn(frame)) continue;
      const own = label(frame);
      if (seen.has(own)) continue;
      seen.add(own);
      inclusive.set(own, (inclusive.get(own) ?? 0) + us);
    }
  }
  const busyUs = totalUs - idleUs;
  const rows = (m: Map<string, number>, n: number): Row[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: us / 1000, pct: (100 * us) / busyUs }));
  return {
    wallMs: window ? (lastUs - firstUs) / 1000 : (profile.endTime - profile.startTime) / 1000,
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    topSelf: rows(self, top),
    byArea: rows(areas, 20),
    ownInclusive: rows(inclusive, 20),
  };
}

export function summariseProfileFile(path: string, top = 25, window?: ProfileWindow): ProfileSummary {
  return summariseProfile(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile, top, window);
}

export function renderSummary(s: ProfileSummary, requests?: number): string {
  const table = (title: string, rows: Row[]) => [
    `| ${title} | self ms | % of busy${requests ? ' | µs / request' : ''} |`,
    `|---|---:|---:|${requests ? '---:|' : ''}`,
    ...rows.map(
      (r) =>
        `| ${r.name.replace(/\|/g, '\\|')} | ${r.ms.toFixed(0)} | ${r.pct.toFixed(1)} |${requests ? ` ${((r.ms * 1000) / requests).toFixed(1)} |` : ''}`,
    ),
  ];
  const perRequest = requests
    ? `, ${requests.toLocaleString('en-US')} requests → ${((s.busyMs * 1000) / requests).toFixed(1)} µs CPU per request`
    : '';
  return [
    `Profile: ${s.wallMs.toFixed(0)} ms wall, ${s.busyMs.toFixed(0)} ms busy, ${s.idleMs.toFixed(0)} ms idle${perRequest}`,
    '',
    ...table('Top self time', s.topSelf),
    '',
    ...table('Self time by area', s.byArea),
    '',
    ...table('Inclusive time, gateway & lib functions', s.ownInclusive).map((l, i) => (i === 0 ? l.replace('self ms', 'incl. ms') : l)),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node dist/bench/profile-summary.js <file.cpuprofile> [top]');
    process.exit(2);
  }
  console.log(renderSummary(summariseProfileFile(file, Number(process.argv[3] ?? 25))));
}
