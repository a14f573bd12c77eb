import { describe, expect, it } from '@jest/globals';
import { requestIdFor } from './request-id.js';

describe('request id', () => {
  it("keeps a caller's sane x-request-id and replaces anything else with a UUID", () => {
    expect(requestIdFor('abc-123_x.y:z')).toBe('abc-123_x.y:z');
    for (const bad of [undefined, '', 'a b', 'x\r\ny', 'é', 'a'.repeat(129), ['a', 'b']]) {
      expect(requestIdFor(bad)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
  });
});
