#!/usr/bin/env node
// Runs the CLI (main.ts) as plain JavaScript: esbuild compiles the sources into one ES module
// at every start (about 0.2 s, so it is never stale), which is loaded and then removed. tsx
// would do for correctness, but it compiles with esbuild's keepNames, which wraps every
// function created at run time in a name-setting call: on the per-command path that cost 10%
// of the server's CPU. Packages stay external (resolved from node_modules as usual); source
// maps are inline, so stack traces name the TypeScript lines.
import { build } from 'esbuild';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.join(import.meta.dirname, '..', '..');
// Inside the package, so the bundle's imports of fastify etc. resolve from its node_modules.
const outDir = path.join(root, 'node_modules', '.cache', 'sluice');
const outFile = path.join(outDir, `main.${process.pid}.${randomBytes(4).toString('hex')}.mjs`);

/** Is process `pid` alive? (kill -9 leaves its bundle behind; the next start removes it.) */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

mkdirSync(outDir, { recursive: true });
for (const name of readdirSync(outDir)) {
  const pid = Number(/^main\.(\d+)\./.exec(name)?.[1]);
  if (pid && !alive(pid)) rmSync(path.join(outDir, name), { force: true });
}
// Removed once loaded, or at exit if the CLI exits while loading (--help).
process.once('exit', () => rmSync(outFile, { force: true }));
await build({
  entryPoints: [path.join(root, 'src', 'cli', 'main.ts')],
  outfile: outFile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'error',
});
process.setSourceMapsEnabled(true);
try {
  await import(pathToFileURL(outFile).href);
} finally {
  rmSync(outFile, { force: true });
}
