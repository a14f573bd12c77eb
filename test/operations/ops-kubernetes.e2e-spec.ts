import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, posix, relative } from 'node:path';
import { parseEnv } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import * as prometheusOperator from '@kubernetes-models/prometheus-operator';
import * as kubernetes from 'kubernetes-models';
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IContainer, IProbe, IService, IVolume } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { parseApiKeysYaml } from '../../apps/gateway/src/config/api-keys-file.parse.js';
import { BUILT_IN_PROVIDERS } from '../../apps/gateway/src/config/providers/provider-registry.js';
import { prometheusRule, PROMETHEUS_RULE } from '../../scripts/k8s-prometheus-rule.mjs';
import { cleanEnv, ROOT, scratchDir } from '../support/processes.js';

/**
 * deploy/kubernetes as an operator applies it: every manifest against the Kubernetes and
 * Prometheus Operator schemas, the references between the manifests and to the gateway (its
 * documented variables, ports, files and shutdown timing), the PrometheusRule against its one
 * source, and the example overlay as kubectl builds it, where kubectl or kustomize is on PATH.
 */

const KUBE = 'deploy/kubernetes';
const OVERLAY = `${KUBE}/overlays/example`;
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** Every document of a YAML stream, read as kubectl reads it (YAML 1.1: `0440` is octal). */
function manifestsIn(text: string): Manifest[] {
  return parseAllDocuments(text, { version: '1.1' }).map((doc) => {
    if (doc.errors.length > 0) throw doc.errors[0];
    return doc.toJS() as Manifest;
  });
}

interface Generator {
  name: string;
  files?: string[];
  envs?: string[];
  literals?: string[];
}
interface Kustomization {
  resources?: string[];
  images?: Array<{ name: string; newName?: string; newTag?: string }>;
  configMapGenerator?: Generator[];
  secretGenerator?: Generator[];
}
const kustomization = (dir: string) => manifestsIn(read(`${dir}/kustomization.yaml`))[0] as unknown as Kustomization;

/** The manifest files a kustomization takes in, its bases' included. */
function resourceFiles(dir: string): string[] {
  return (kustomization(dir).resources ?? []).flatMap((entry) => {
    const path = posix.normalize(`${dir}/${entry}`);
    return entry.endsWith('.yaml') ? [path] : resourceFiles(path);
  });
}

const files = resourceFiles(OVERLAY);
const resources = files.flatMap((file) => manifestsIn(read(file)));
const find = <T>(kind: string) => resources.find((r) => r.kind === kind) as unknown as T;
const deployment = find<IDeployment>('Deployment');
const pod = deployment.spec!.template.spec!;
const gateway = pod.containers[0];
const overlay = kustomization(OVERLAY);
const generators = [...(overlay.configMapGenerator ?? []), ...(overlay.secretGenerator ?? [])];

/** The variables the container is given: the overlay's env files through `envFrom`, then its own `env`, which wins. */
const envFiles = (gateway.envFrom ?? []).flatMap((source) => generators.find((g) => g.name === source.configMapRef?.name)?.envs ?? []);
const environment: Record<string, string> = Object.assign(
  {},
  ...envFiles.map((file) => parseEnv(read(`${OVERLAY}/${file}`)) as Record<string, string>),
  Object.fromEntries((gateway.env ?? []).map((v) => [v.name, v.value ?? ''])) as Record<string, string>,
) as Record<string, string>;

type Model = new (data: unknown) => { validate(): void };
type Versions = Record<string, Record<string, Model> | undefined>;
const MODELS: Record<string, unknown> = { ...kubernetes, ...prometheusOperator };

/** What the schema of a manifest's apiVersion and kind says against it, or `undefined`. */
function schemaProblem(manifest: Manifest): string | undefined {
  const [group, version] = manifest.apiVersion.includes('/') ? manifest.apiVersion.split('/') : ['', manifest.apiVersion];
  // kubernetes-models names a group's module in camel case: `networking.k8s.io` is `networkingK8sIo`.
  const module = group.split('.').reduce((name, part) => name + part[0].toUpperCase() + part.slice(1));
  const versions = (group === '' ? MODELS : MODELS[module]) as Versions | undefined;
  const Model = versions?.[version]?.[manifest.kind];
  if (Model === undefined) return `no schema for ${manifest.apiVersion} ${manifest.kind}`;
  try {
    new Model(manifest).validate();
    return undefined;
  } catch (error) {
    return `${manifest.kind} ${manifest.metadata.name}: ${(error as Error).message}`;
  }
}

/** The files a generator (`key=path`, `path`, `key=value`, env files) puts in its ConfigMap or Secret, with the overlay's file each comes from. */
function generated(name: string): Map<string, string | undefined> {
  const generator = generators.find((g) => g.name === name);
  return new Map([
    ...(generator?.files ?? []).map((entry): [string, string] => {
      const [key, path] = entry.includes('=') ? entry.split('=') : [basename(entry), entry];
      return [key, `${OVERLAY}/${path}`];
    }),
    ...(generator?.literals ?? []).map((entry): [string, undefined] => [entry.split('=')[0], undefined]),
    ...(generator?.envs ?? []).flatMap((file) =>
      Object.keys(parseEnv(read(`${OVERLAY}/${file}`))).map((key): [string, undefined] => [key, undefined]),
    ),
  ]);
}

/** The files a volume shows in its mount (with the overlay's file each comes from), from the overlay's generators. */
function filesOf(volume: IVolume): Map<string, string | undefined> {
  const source = (name: string | undefined, items?: Array<{ key: string; path: string }>) => {
    const all = generated(name ?? '');
    return items ? new Map(items.filter((item) => all.has(item.key)).map((item) => [item.path, all.get(item.key)])) : all;
  };
  if (volume.configMap) return source(volume.configMap.name, volume.configMap.items);
  if (volume.secret) return source(volume.secret.secretName, volume.secret.items);
  return new Map(
    (volume.projected?.sources ?? []).flatMap((s) => [
      ...(s.secret ? source(s.secret.name, s.secret.items) : []),
      ...(s.configMap ? source(s.configMap.name, s.configMap.items) : []),
    ]),
  );
}

/** The mount and volume a path in the container is a file of, and the files that volume shows. */
function mountOf(path: string) {
  const mount = gateway.volumeMounts?.find((m) => m.mountPath === dirname(path));
  const volume = pod.volumes?.find((v) => v.name === mount?.name);
  return { mount, volume, files: volume ? filesOf(volume) : new Map<string, string | undefined>() };
}

describe('deploy/kubernetes: the manifests', () => {
  it('finds the manifests (the scan itself works)', () => {
    expect(resources.map((r) => r.kind).sort()).toEqual(
      expect.arrayContaining([
        'Deployment',
        'HorizontalPodAutoscaler',
        'NetworkPolicy',
        'PodDisruptionBudget',
        'PrometheusRule',
        'Service',
        'ServiceMonitor',
      ]),
    );
    expect(
      schemaProblem({
        ...(deployment as unknown as Manifest),
        spec: { selector: {}, template: { spec: { containers: [{ name: 'x', ports: [{ containerPort: 'http' }] }] } } },
      }),
    ).toMatch(/containerPort must be integer/);
    expect(schemaProblem({ apiVersion: 'example.com/v1', kind: 'Nothing', metadata: { name: 'x' } })).toBe(
      'no schema for example.com/v1 Nothing',
    );
  });

  it('takes in every file under deploy/kubernetes: a manifest left out of its kustomization.yaml would never be applied', () => {
    const inputs = generators.flatMap((g) => [...(g.files ?? []).map((f) => f.split('=').pop()!), ...(g.envs ?? [])]);
    const used = [...files, `${KUBE}/base/kustomization.yaml`, `${OVERLAY}/kustomization.yaml`, ...inputs.map((f) => `${OVERLAY}/${f}`)];
    const present = readdirSync(join(ROOT, KUBE), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
    expect(present.sort()).toEqual(used.sort());
  });

  it.each(files)('%s matches the Kubernetes or Prometheus Operator schema of each of its kinds', (file) => {
    expect(manifestsIn(read(file)).map(schemaProblem).filter(Boolean)).toEqual([]);
  });

  it(`holds the rules of deploy/prometheus/alerts.yml in ${PROMETHEUS_RULE}, as scripts/k8s-prometheus-rule.mjs writes it`, async () => {
    expect(read(PROMETHEUS_RULE)).toBe(await prometheusRule());
  });
});

describe('deploy/kubernetes: the Deployment runs the gateway as the image does', () => {
  it('runs the image CMD as its non-root user (node, 1000), on a read-only root filesystem, without service links or an API token', () => {
    expect(read('Dockerfile')).toMatch(/^USER node$/m);
    expect(gateway.command).toBeUndefined();
    expect(pod).toMatchObject({
      enableServiceLinks: false,
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
    });
    expect(gateway.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(gateway.resources).toMatchObject({
      requests: { cpu: expect.any(String), memory: expect.any(String) },
      limits: { memory: expect.any(String) },
    });
  });

  it('sets only variables that docs/configuration.md describes', () => {
    const doc = read('docs/configuration.md');
    const described = (name: string) => new RegExp(`\`${name}[\`=]`).test(doc);
    // `<NAME>_FILE` is described once, for the secrets its paragraph names (`REDIS_URL`, `*_CLIENT_SECRET`...).
    const secretFiles = /\*\*Secrets from files\.\*\*([\s\S]*?)\n- \*\*/.exec(doc)![1];
    const secretFile = (name: string) =>
      name.endsWith('_FILE') &&
      described(name.slice(0, -'_FILE'.length)) &&
      [...secretFiles.matchAll(/`(?:\*(_[A-Z_]+)|([A-Z][A-Z0-9_]*))`/g)].some(([, suffix, whole]) =>
        suffix ? name.endsWith(`${suffix}_FILE`) : name === `${whole}_FILE`,
      );
    const names = Object.keys(environment);
    expect(names).toEqual(
      expect.arrayContaining(['PORT', 'ADMIN_PORT', 'GATEWAY_API_KEYS_FILE', 'REDIS_URL_FILE', 'PRIO_CLIENT_SECRET_FILE']),
    );
    expect(names.filter((name) => !described(name) && !secretFile(name))).toEqual([]);
  });

  it('serves the proxy on PORT and probes /health and /health/ready on ADMIN_PORT, a container port of its own', () => {
    const port = (name: string) => gateway.ports?.find((p) => p.name === name)?.containerPort;
    expect(port('http')).toBe(Number(environment.PORT ?? 3000));
    expect(port('admin')).toBe(Number(environment.ADMIN_PORT));
    expect(read('Dockerfile')).toMatch(new RegExp(`^EXPOSE ${port('http')}$`, 'm'));
    const probe = (p: IProbe | undefined) => ({ path: p?.httpGet?.path, port: port(String(p?.httpGet?.port)) ?? p?.httpGet?.port });
    expect(probe(gateway.startupProbe)).toEqual({ path: '/health', port: port('admin') });
    expect(probe(gateway.livenessProbe)).toEqual({ path: '/health', port: port('admin') });
    expect(probe(gateway.readinessProbe)).toEqual({ path: '/health/ready', port: port('admin') });
  });

  it('gives the gateway SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS + 5 s before the kubelet kills it', () => {
    const doc = read('docs/configuration.md');
    const ms = (name: string) => Number(environment[name] ?? new RegExp(`\\| \`${name}\` \\| \`(\\d+)\``).exec(doc)?.[1]);
    const needed = (ms('SHUTDOWN_DELAY_MS') + ms('SHUTDOWN_TIMEOUT_MS') + 5_000) / 1000;
    expect(needed).toBeGreaterThan(5);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(needed);
  });

  it('mounts the file of every *_FILE variable, and the keys ConfigMap as a directory (its symlink swap is what the gateway reloads on)', () => {
    const paths = Object.entries(environment).filter(([name]) => name.endsWith('_FILE'));
    expect(paths.map(([name, path]) => ({ name, path, mounted: mountOf(path).files.has(basename(path)) }))).toEqual(
      paths.map(([name, path]) => ({ name, path, mounted: true })),
    );
    const keys = mountOf(environment.GATEWAY_API_KEYS_FILE);
    expect(keys.volume?.configMap).toBeDefined();
    expect(keys.mount?.subPath).toBeUndefined();
  });

  it('is a configuration the gateway reads: started with it as the pod starts it, the gateway refuses only the placeholder encryption key', () => {
    const scratch = scratchDir('k8s-');
    // The image's NODE_ENV, and each mounted file read from the overlay file it is made of.
    const env = {
      NODE_ENV: /^ENV NODE_ENV=(\S+)$/m.exec(read('Dockerfile'))![1],
      ...Object.fromEntries(
        Object.entries(environment).map(([name, value]) => [
          name,
          name.endsWith('_FILE') ? join(ROOT, mountOf(value).files.get(basename(value))!) : value,
        ]),
      ),
    };
    const run = spawnSync(process.execPath, [join(ROOT, 'dist/apps/gateway/src/main.js')], {
      cwd: scratch.dir,
      env: cleanEnv(env),
      encoding: 'utf8',
      timeout: 20_000,
    });
    scratch.remove();
    const problems = run.stderr.split('\n').filter((line) => line.startsWith('  '));
    expect({ status: run.status, problems }).toEqual({
      status: 1,
      problems: [expect.stringMatching(/^ {2}TOKEN_ENCRYPTION_KEY: must be 32 bytes/)],
    });
  });

  it("ships a keys file the gateway accepts, only callers' digests in it", () => {
    const generator = overlay.configMapGenerator!.find(
      (g) => g.name === mountOf(environment.GATEWAY_API_KEYS_FILE).volume?.configMap?.name,
    );
    const text = read(`${OVERLAY}/${generator!.files![0]}`);
    expect(parseApiKeysYaml(text, new Set(BUILT_IN_PROVIDERS))).toMatchObject({ ok: true, keys: [expect.anything()] });
    expect([...text.matchAll(/key: (\S+)/g)].map((m) => m[1])).toEqual([expect.stringMatching(/^sha256:[0-9a-f]{64}$/)]);
  });

  it('routes the Service, the ServiceMonitor and the NetworkPolicy to container ports by name', () => {
    const names = (gateway.ports ?? []).map((p) => p.name);
    const service = find<IService>('Service');
    expect(service.spec!.ports!.map((p) => p.targetPort)).toEqual(names);
    const monitor = find<{ spec: { endpoints: Array<{ port: string; path: string }> } }>('ServiceMonitor');
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'admin', path: '/metrics' })]);
    const policy = find<{ spec: { ingress: Array<{ ports: Array<{ port: string }> }> } }>('NetworkPolicy');
    expect(policy.spec.ingress.flatMap((rule) => rule.ports.map((p) => p.port))).toEqual(names);
  });

  it('leaves the image to the overlay', () => {
    expect(overlay.images).toEqual([
      expect.objectContaining({ name: gateway.image, newName: expect.any(String), newTag: expect.any(String) }),
    ]);
  });
});

/** `kubectl kustomize` or `kustomize build`, whichever is on PATH (`version` asks no cluster). */
const builder = [
  { command: 'kubectl', build: ['kustomize'], version: ['version', '--client'] },
  { command: 'kustomize', build: ['build'], version: ['version'] },
].find(({ command, version }) => spawnSync(command, version, { stdio: 'ignore' }).status === 0);

(builder ? describe : describe.skip)(
  `the example overlay, built by ${builder ? `${builder.command} ${builder.build[0]}` : 'kubectl or kustomize (neither on PATH: skipped)'}`,
  () => {
    const build = (dir: string) => {
      const run = spawnSync(builder!.command, [...builder!.build, join(ROOT, dir)], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      // kubectl folds a long Secret value over lines: the API server's base64 decoder skips them, the schema's "byte" format does not.
      return manifestsIn(run.stdout).map((m) =>
        m.kind === 'Secret'
          ? { ...m, data: Object.fromEntries(Object.entries(m.data as object).map(([k, v]) => [k, String(v).replace(/\s/g, '')])) }
          : m,
      );
    };

    it('builds manifests that match their schemas, the generated ConfigMaps and Secrets included', () => {
      const built = build(OVERLAY);
      expect(built.map((m) => m.kind)).toEqual(expect.arrayContaining(['ConfigMap', 'Secret', 'Namespace', 'Deployment']));
      expect(built.map(schemaProblem).filter(Boolean)).toEqual([]);
      expect(build(`${KUBE}/base`).map(schemaProblem).filter(Boolean)).toEqual([]);
    });

    it('resolves the image and every ConfigMap and Secret the Deployment names', () => {
      const built = build(OVERLAY);
      const names = (kind: string) => built.filter((m) => m.kind === kind).map((m) => m.metadata.name);
      const spec = (built.find((m) => m.kind === 'Deployment') as unknown as IDeployment).spec!.template.spec!;
      const [image] = overlay.images!;
      expect(spec.containers.map((c: IContainer) => c.image)).toEqual([`${image.newName}:${image.newTag}`]);
      const volumes = spec.volumes!;
      const refs = {
        ConfigMap: [
          ...spec.containers.flatMap((c) => (c.envFrom ?? []).map((e) => e.configMapRef?.name)),
          ...volumes.map((v) => v.configMap?.name),
          ...volumes.flatMap((v) => (v.projected?.sources ?? []).map((s) => s.configMap?.name)),
        ].filter(Boolean),
        Secret: volumes.flatMap((v) => (v.projected?.sources ?? []).map((s) => s.secret?.name)).filter(Boolean),
      };
      expect(refs.ConfigMap.length + refs.Secret.length).toBeGreaterThanOrEqual(4);
      expect(refs).toEqual({
        ConfigMap: refs.ConfigMap.filter((n) => names('ConfigMap').includes(n!)),
        Secret: refs.Secret.filter((n) => names('Secret').includes(n!)),
      });
    });
  },
);
