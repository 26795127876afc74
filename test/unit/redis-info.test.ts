import assert from 'node:assert/strict';
import { memoryUsage } from '../../src/redis/info';

describe('Redis INFO memory', () => {
  it('reads used and max memory and the percentage a grade is based on', () => {
    const text = '# Memory\r\nused_memory:50331648\r\nused_memory_human:48.00M\r\nmaxmemory:67108864\r\n';
    assert.deepEqual(memoryUsage(text), { usedBytes: 50331648, maxBytes: 67108864, percent: 75 });
  });

  it('reports no percentage when the server has no memory limit', () => {
    assert.equal(memoryUsage('used_memory:1000\nmaxmemory:0\n').percent, null);
  });

  it('refuses text that is not INFO memory', () => {
    assert.throws(() => memoryUsage('# Server\nredis_version:7.0.15\n'), /no used_memory/);
  });
});
