// The V8 flags the broker runs with (SERVER_NODE_FLAGS in src/index.ts): a broker that
// startSluice starts has them on its command line, and `npm start` and the `sluice` bin give
// the same ones.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVER_NODE_FLAGS, startSluice } from '../src/index';

const ROOT = path.join(import.meta.dirname, '..');

describe('SERVER_NODE_FLAGS', () => {
  it('are on the command line of a broker started by startSluice', async () => {
    const broker = await startSluice({ args: ['--no-resp'] });
    try {
      const cmdline = readFileSync(`/proc/${broker.pid}/cmdline`, 'utf8').split('\0');
      for (const flag of SERVER_NODE_FLAGS) expect(cmdline).toContain(flag);
    } finally {
      await broker.destroy();
    }
  });

  it('are given by npm start and by the sluice bin', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const shebang = readFileSync(path.join(ROOT, 'src/cli/sluice.mjs'), 'utf8').split('\n')[0];
    for (const flag of SERVER_NODE_FLAGS) {
      expect(pkg.scripts.start?.split(' ')).toContain(flag);
      expect(shebang?.split(' ')).toContain(flag);
    }
  });
});
