// A request's session: its abort signal is made only when asked for, fires when the server
// stops, and lives on the class, so sessions share one shape (a getter defined per object gave
// each its own hidden class, which kept every request's objects alive through minor GCs).
import { afterEach, describe, expect, it } from 'vitest';
import type { Session } from '../../src/commands';
import { requestSession } from '../../src/http/run';
import { appFixture, type AppFixture } from './deps-fixture';

let fx: AppFixture | null = null;
afterEach(async () => {
  await fx?.close();
  fx = null;
});

describe('requestSession', () => {
  it('gives each request a session of one shape whose abort is made when asked for', async () => {
    const sessions: Session[] = [];
    fx = await appFixture({}, (app) => {
      app.get('/t/session', (_req, reply) => {
        const s = requestSession(fx?.deps as AppFixture['deps'], reply);
        sessions.push(s);
        return { id: s.id, aborted: s.abort?.aborted ?? null };
      });
    });
    const a = await fx.app.inject({ method: 'GET', url: '/t/session' });
    const b = await fx.app.inject({ method: 'GET', url: '/t/session' });
    expect(a.json()).toMatchObject({ aborted: false });
    expect(b.json().id).not.toBe(a.json().id);
    const [s1, s2] = sessions as [Session, Session];
    expect(Object.getOwnPropertyDescriptor(s1, 'abort')).toBeUndefined();
    expect(Object.keys(s1)).toEqual(Object.keys(s2));
    expect(Object.getPrototypeOf(s1)).toBe(Object.getPrototypeOf(s2));
    // The same signal each time it is asked for.
    expect(s2.abort).toBe(s2.abort);
  });

  it('aborts the session of a request that comes while the server stops', async () => {
    let aborted: boolean | undefined;
    fx = await appFixture({}, (app) => {
      app.get('/t/stopping', (_req, reply) => {
        const deps = fx?.deps as AppFixture['deps'];
        aborted = requestSession(deps, reply).abort?.aborted;
        deps.stopping.abort();
        return {};
      });
    });
    await fx.app.inject({ method: 'GET', url: '/t/stopping' });
    expect(aborted).toBe(false);
    const again = requestSession(fx.deps, {} as never);
    expect(again.abort?.aborted).toBe(true);
  });
});
