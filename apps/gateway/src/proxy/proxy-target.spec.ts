import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseProxyTarget } from './proxy-target.js';

const accepted = (target: string) => {
  const result = parseProxyTarget(target);
  if (!result.ok) throw new Error(`refused ${JSON.stringify(target)}: ${result.reason}`);
  return result.target;
};
const refused = (target: string) => parseProxyTarget(target).ok === false;

describe('parseProxyTarget', () => {
  it('forwards raw characters other than a fragment, spaces and controls in the query as received', () => {
    expect(accepted('/prio/a?q=caf\u00e9&x=[1]|{2}^"<>\\`')).toMatchObject({ search: '?q=caf\u00e9&x=[1]|{2}^"<>\\`' });
    expect(accepted("/prio/a:b@c!$&'()*+,;=~")).toMatchObject({ path: "/a:b@c!$&'()*+,;=~" });
  });

  it('refuses any target holding a character an origin-form path may not hold raw', () => {
    const pathChar = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]$/;
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary-ascii', maxLength: 8 }),
        fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }),
        (tail, char) => {
          fc.pre(!pathChar.test(char) && char !== '?');
          expect(refused(`/prio/a${char}${tail}`)).toBe(true);
        },
      ),
    );
  });

  it('splits provider, path and query, leaving both as the caller encoded them', () => {
    expect(accepted('/prio/products?x=1&y=%2F')).toEqual({ provider: 'prio', path: '/products', search: '?x=1&y=%2F' });
    expect(accepted('/latam/a%20b/c-d_e.f~g/')).toEqual({ provider: 'latam', path: '/a%20b/c-d_e.f~g/', search: '' });
    expect(accepted('/sabre')).toEqual({ provider: 'sabre', path: '', search: '' });
    expect(accepted('/sabre?q=..%2F..')).toEqual({ provider: 'sabre', path: '', search: '?q=..%2F..' });
    expect(accepted('/payme/...')).toMatchObject({ path: '/...' });
  });

  it.each([
    ['dot-dot raw', '/prio/../admin'],
    ['dot raw', '/prio/./x'],
    ['trailing dot-dot', '/prio/a/..'],
    ['dot-dot encoded, mixed case', '/prio/%2e%2E/admin'],
    ['half encoded', '/prio/.%2e/admin'],
    ['half encoded, other half', '/prio/%2E./admin'],
    ['double encoded', '/prio/%252e%252e/admin'],
    ['triple encoded', '/prio/%25252e%25252e/admin'],
    ['encoded slash', '/prio/a%2fb'],
    ['encoded slash upper', '/prio/..%2F..%2Fadmin'],
    ['double encoded slash', '/prio/a%252fb'],
    ['encoded backslash', '/prio/..%5c..%5Cadmin'],
    ['raw backslash', '/prio/..\\admin'],
    ['empty segment', '/prio//evil.example/x'],
    ['empty segment later', '/prio/a//b'],
    ['absolute form', 'http://evil.example/prio/x'],
    ['asterisk form', '*'],
    ['raw NUL', '/prio/a\u0000b'],
    ['encoded NUL', '/prio/a%00b'],
    ['encoded newline', '/prio/a%0d%0aSet-Cookie:x'],
    ['raw DEL', '/prio/a\u007fb'],
    ['malformed encoding', '/prio/%zz'],
    ['dot-dot with a parameter', '/prio/..;jsessionid=1/admin'],
    ['dot-dot as the provider', '/../prio/x'],
    ['a fragment', '/prio/a#b'],
    ['dot-dot before a fragment', '/prio/..#/admin'],
    ['encoded dot-dot before a fragment', '/prio/%2e%2e#'],
    ['a fragment in the query', '/prio/a?x=1#/../admin'],
    ['a space in the query', '/prio/a?x=1 2'],
    ['a control in the query', '/prio/a?x=\u0001'],
    ['a raw space', '/prio/a b'],
    ['a raw double quote', '/prio/a"b'],
    ['raw angle brackets', '/prio/<script>'],
    ['raw braces', '/prio/{x}'],
    ['a raw caret', '/prio/a^b'],
    ['a raw backtick', '/prio/a`b'],
    ['a raw pipe', '/prio/a|b'],
    ['raw square brackets', '/prio/a[0]'],
    ['a raw non-ASCII character', '/prio/caf\u00e9'],
  ])('refuses %s: %s', (_name, target) => {
    expect(refused(target)).toBe(true);
  });

  // Each character of "." / ".." / "/" / "\" written raw or percent-encoded 1-3 times, any case.
  const encodedChar = (char: string) =>
    fc.tuple(fc.integer({ min: 0, max: 3 }), fc.boolean()).map(([depth, upper]) => {
      let out = char;
      for (let i = 0; i < depth; i++) {
        const hex = Buffer.from(out).toString('hex').replace(/(..)/g, '%$1');
        out = upper ? hex.toUpperCase() : hex;
      }
      return out;
    });
  const hostileSegment = fc.oneof(
    fc.tuple(encodedChar('.')).map(([a]) => a),
    fc.tuple(encodedChar('.'), encodedChar('.')).map(([a, b]) => a + b),
    fc.tuple(fc.stringMatching(/^[a-z]{0,3}$/), fc.constantFrom('/', '\\'), fc.stringMatching(/^[a-z]{0,3}$/)).chain(([l, sep, r]) =>
      encodedChar(sep)
        .filter((e) => e !== '/')
        .map((e) => l + e + r),
    ),
  );
  const safeSegment = fc.stringMatching(/^[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,11}$/);

  it('refuses any path holding a dot, slash or backslash segment however it is encoded', () => {
    fc.assert(
      fc.property(fc.array(safeSegment, { maxLength: 4 }), hostileSegment, fc.array(safeSegment, { maxLength: 4 }), (before, bad, after) =>
        refused(`/prio/${[...before, bad, ...after].join('/')}`),
      ),
      { numRuns: 2000 },
    );
  });

  it('accepts ordinary paths and forwards them byte for byte', () => {
    fc.assert(
      fc.property(fc.array(safeSegment, { minLength: 1, maxLength: 6 }), fc.stringMatching(/^(\?[a-z0-9=&%.]*)?$/), (segments, search) => {
        const path = `/${segments.join('/')}`;
        expect(accepted(`/latam${path}${search}`)).toEqual({ provider: 'latam', path, search });
      }),
    );
  });

  it('never accepts a target whose forwarded URL a WHATWG parser would move out of the base path', () => {
    const piece = fc.constantFrom(
      '/',
      '.',
      '..',
      '%',
      '2',
      '5',
      'e',
      'E',
      'f',
      'F',
      'c',
      'C',
      '\\',
      '?',
      ';',
      'a',
      '%2e',
      '%2f',
      '%5c',
      '%25',
      '%00',
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 14 }).map((p) => p.join('')),
        (rest) => {
          const result = parseProxyTarget(`/prio/${rest}`);
          if (!result.ok) return;
          const raw = `/base${result.target.path}`;
          const resolved = new URL(raw + result.target.search, 'http://upstream.example');
          expect(resolved.origin).toBe('http://upstream.example');
          expect(resolved.pathname.startsWith('/base/') || resolved.pathname === '/base').toBe(true);
          // Nothing was swallowed as a dot segment or split by a backslash.
          expect(resolved.pathname.split('/').length).toBe(raw.split('/').length);
        },
      ),
      { numRuns: 5000 },
    );
  });
});
