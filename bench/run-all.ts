// Runs every benchmark module at full size (or --small), printing each table and saving its
// JSON under bench/results/ (`npm run bench`).
//
// Usage: tsx bench/run-all.ts [--small]
import path from 'node:path';
import {
  printTable,
  progress,
  REPO_ROOT,
  saveResults,
  type BenchSize,
  type Result,
} from './harness';
import { runStorageBench } from './storage';
import { runStreamsBench } from './streams';
import { runQueuesBench } from './queues';
import { runHttpBench } from './http';
import { runRespBench } from './resp';

interface BenchModule {
  readonly name: string;
  readonly run: (size: BenchSize) => Promise<Result[]>;
}

const MODULES: readonly BenchModule[] = [
  { name: 'storage', run: runStorageBench },
  { name: 'streams', run: runStreamsBench },
  { name: 'queues', run: runQueuesBench },
  { name: 'http', run: runHttpBench },
  { name: 'resp', run: runRespBench },
];

async function main(): Promise<void> {
  const size: BenchSize = process.argv.includes('--small') ? 'small' : 'full';
  for (const mod of MODULES) {
    progress(`${mod.name} (${size})`);
    const t0 = Date.now();
    const results = await mod.run(size);
    printTable(`${mod.name} (${size}, ${((Date.now() - t0) / 1000).toFixed(0)} s)`, results);
    // Small runs save under their own name so `<name>-latest.json` keeps the full figures.
    const file = await saveResults(size === 'full' ? mod.name : `${mod.name}-small`, size, results);
    process.stdout.write(`saved ${path.relative(REPO_ROOT, file)}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
