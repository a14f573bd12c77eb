import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import ts from 'typescript';

/**
 * The package's public surface as an app's compiler sees it: the built declarations of each entry
 * point (`npm test` builds first), read with the TypeScript compiler API.
 */

const PACKAGE = fileURLToPath(new URL('../../libs/oauth-providers', import.meta.url));
const ENTRIES = ['index', 'redis', 'testing'] as const;
const declarations = (entry: string, build: 'cjs' | 'esm') => join(PACKAGE, 'dist', build === 'cjs' ? 'cjs' : '', `${entry}.d.ts`);

const OPTIONS: ts.CompilerOptions = {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  strict: true,
  experimentalDecorators: true,
  noEmit: true,
  skipLibCheck: false,
  types: ['node'],
};

/** Each entry point's exported names, with the documentation comment of what each resolves to. */
function publicNames(build: 'cjs' | 'esm'): Array<{ entry: string; name: string; doc: string }> {
  const files = ENTRIES.map((entry) => declarations(entry, build));
  const program = ts.createProgram(files, OPTIONS);
  const checker = program.getTypeChecker();
  return ENTRIES.flatMap((entry, i) => {
    const source = program.getSourceFile(files[i])!;
    const module = checker.getSymbolAtLocation(source)!;
    return checker.getExportsOfModule(module).map((symbol) => {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      return { entry, name: symbol.name, doc: ts.displayPartsToString(target.getDocumentationComment(checker)).trim() };
    });
  });
}

describe('the public API in the built declarations', () => {
  it('documents every exported name of every entry point (the list names those without a doc comment)', () => {
    const undocumented = publicNames('cjs')
      .filter(({ doc }) => doc.length === 0)
      .map(({ entry, name }) => `${entry}: ${name}`);
    expect(undocumented).toEqual([]);
  });

  it('gives the ES module entry points the same names as the CommonJS build', () => {
    const names = (build: 'cjs' | 'esm') =>
      publicNames(build)
        .map(({ entry, name }) => `${entry}: ${name}`)
        .sort();
    expect(names('esm')).toEqual(names('cjs'));
    expect(names('cjs').length).toBeGreaterThan(60);
  });

  it('exports the strategies as factories only, and TokenService without isStoreDegraded, requestHeadersFor or an argument-free constructor', () => {
    const names = publicNames('cjs').map(({ name }) => name);
    expect(names).toEqual(expect.arrayContaining(['prio', 'sabre', 'oauth2', 'latamPass', 'payme', 'transatel']));
    expect(names.filter((name) => /Strategy$/.test(name) && name !== 'TokenStrategy')).toEqual([]);

    const dir = mkdtempSync(join(tmpdir(), 'public-api-'));
    try {
      const app = join(dir, 'app.mts');
      writeFileSync(
        app,
        [
          `import { TokenService } from ${JSON.stringify(declarations('index', 'esm').replace(/\.d\.ts$/, '.js'))};`,
          'declare const tokens: TokenService;',
          'new TokenService();',
          'tokens.isStoreDegraded();',
          'tokens.requestHeadersFor;',
          'export const headers: Promise<Readonly<Record<string, string>>> = tokens.getRequestHeaders("prio");',
          'export const forToken: Readonly<Record<string, string>> = tokens.getRequestHeaders(await tokens.getToken("prio"));',
        ].join('\n'),
      );
      const program = ts.createProgram([app], OPTIONS);
      const errors = ts.getPreEmitDiagnostics(program).map((d) => ({
        line: d.file ? d.file.getLineAndCharacterOfPosition(d.start!).line : -1,
        text: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
      }));
      expect(errors.map((e) => e.line).sort()).toEqual([2, 3, 4]);
      expect(errors.find((e) => e.line === 2)?.text).toMatch(/Expected 3 arguments/);
      expect(errors.find((e) => e.line === 3)?.text).toMatch(/isStoreDegraded/);
      expect(errors.find((e) => e.line === 4)?.text).toMatch(/requestHeadersFor/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps a real dynamic import() in the CommonJS build (tsc with module commonjs would turn it into require())', () => {
    const cjs = join(PACKAGE, 'dist/cjs');
    const rewritten = readdirSync(cjs, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.js'))
      .filter((file) => /Promise\.resolve\(\)\.then\(\(\) => [^\n]*require\(/.test(readFileSync(join(cjs, file), 'utf8')));
    expect(rewritten).toEqual([]);
    expect(JSON.parse(readFileSync(join(cjs, 'package.json'), 'utf8'))).toEqual({ type: 'commonjs' });
    // the same compiler settings on a CommonJS file keep import() as it is
    const out = ts.transpileModule('export const load = () => import("jose");', {
      fileName: 'probe.cts',
      compilerOptions: { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext },
    }).outputText;
    expect(out).toContain('import("jose")');
    expect(out).not.toContain('require("jose")');
  });
});
