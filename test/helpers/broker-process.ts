// A real Sluice process per test (startSluice), destroyed after the test whatever happened.
import { afterEach } from 'vitest';
import { startSluice, type SluiceProcess, type StartOptions } from '../../src/index';

export function processPerTest(): (options?: StartOptions) => Promise<SluiceProcess> {
  let current: SluiceProcess | undefined;
  afterEach(async () => {
    await current?.destroy();
    current = undefined;
  });
  return async (options) => (current = await startSluice(options));
}
