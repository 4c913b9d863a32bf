// Gives back what a list pop took for an HTTP client that went away before its reply could be
// sent: popped values go back to the end they came from, in their order, and a moved value
// moves back. A blocked pop whose client leaves is aborted before anything is taken (run.ts);
// this covers the remaining window, a pop made and then waiting for durability, or a reply
// being written, when the client disconnects. Best effort, like Redis's reliable-queue advice:
// if the destination changed meanwhile the value is left where it is, never dropped.
import { Side } from '../broker/lists';
import type { Broker } from '../broker/broker';
import { keyId } from '../broker/keyspace';
import type { Reply } from '../commands/reply';
import type { Logger } from '../../storage/errors';

type Undo =
  | { readonly t: 'push'; readonly key: Buffer; readonly side: Side; readonly values: Buffer[] }
  | {
      readonly t: 'move';
      readonly src: Buffer;
      readonly dst: Buffer;
      readonly from: Side;
      readonly to: Side;
      readonly value: Buffer;
    };

const word = (b: Buffer | undefined) => (b ? b.toString('latin1').toUpperCase() : '');

function sideOf(b: Buffer | undefined): Side | null {
  const w = word(b);
  if (w === 'LEFT') return Side.Left;
  return w === 'RIGHT' ? Side.Right : null;
}

function bulks(r: Reply): Buffer[] | null {
  if (r.t === 'bulk') return [r.v];
  if (r.t !== 'array') return null;
  const out: Buffer[] = [];
  for (const x of r.v) {
    if (x.t !== 'bulk') return null;
    out.push(x.v);
  }
  return out;
}

/** [key, [values]] of LMPOP/BLMPOP, [key, value] of BLPOP/BRPOP. */
function keyed(r: Reply): { key: Buffer; values: Buffer[] } | null {
  if (r.t !== 'array' || r.v.length !== 2) return null;
  const [k, v] = r.v as [Reply, Reply];
  const values = bulks(v);
  return k.t === 'bulk' && values ? { key: k.v, values } : null;
}

function mpopUndo(args: readonly Buffer[], r: Reply, numkeysAt: number): Undo | null {
  const numkeys = Number(args[numkeysAt]?.toString('latin1'));
  const side = sideOf(args[numkeysAt + numkeys + 1]);
  const popped = keyed(r);
  return side === null || !popped ? null : { t: 'push', side, ...popped };
}

function moveUndo(args: readonly Buffer[], r: Reply, sides: [Side, Side] | null): Undo | null {
  if (r.t !== 'bulk' || !sides) return null;
  const [from, to] = sides;
  return { t: 'move', src: args[1] as Buffer, dst: args[2] as Buffer, from, to, value: r.v };
}

/** What to do to give back what `args` took, as replied by `r`; null when nothing was taken. */
export function undoOf(args: readonly Buffer[], r: Reply): Undo | null {
  const name = word(args[0]);
  switch (name) {
    case 'LPOP':
    case 'RPOP': {
      const values = bulks(r);
      const side = name === 'LPOP' ? Side.Left : Side.Right;
      return values && values.length > 0
        ? { t: 'push', key: args[1] as Buffer, side, values }
        : null;
    }
    case 'BLPOP':
    case 'BRPOP': {
      const popped = keyed(r);
      return popped
        ? { t: 'push', side: name === 'BLPOP' ? Side.Left : Side.Right, ...popped }
        : null;
    }
    case 'LMPOP':
      return mpopUndo(args, r, 1);
    case 'BLMPOP':
      return mpopUndo(args, r, 2);
    case 'LMOVE':
    case 'BLMOVE': {
      const from = sideOf(args[3]);
      const to = sideOf(args[4]);
      return moveUndo(args, r, from === null || to === null ? null : [from, to]);
    }
    case 'RPOPLPUSH':
    case 'BRPOPLPUSH':
      return moveUndo(args, r, [Side.Right, Side.Left]);
    default:
      return null;
  }
}

const latin1 = (b: Buffer) => b.toString('latin1');

/** Applies an undo holding the keys' locks, so no command sees a half-restored list. */
async function apply(broker: Broker, db: number, undo: Undo): Promise<boolean> {
  const { lists, keyspace } = broker;
  if (undo.t === 'push') {
    const id = latin1(undo.key);
    return broker.locks.run([keyId(db, undo.key)], () => {
      const type = keyspace.typeOf(db, id);
      if (type !== undefined && type !== 'list') return false;
      // Popped in order v1, v2..., each from `side`: pushing them back last first restores it.
      lists.push(db, id, undo.side, undo.values.map(latin1).reverse());
      return true;
    });
  }
  const src = latin1(undo.src);
  const dst = latin1(undo.dst);
  return broker.locks.run([keyId(db, undo.src), keyId(db, undo.dst)], () => {
    const list = keyspace.listById(db, dst);
    if (!list || list.length === 0) return false;
    const end = list.at(undo.to === Side.Left ? 0 : list.length - 1);
    const srcType = keyspace.typeOf(db, src);
    if (end !== latin1(undo.value) || (srcType !== undefined && srcType !== 'list')) return false;
    lists.move(db, dst, src, undo.to, undo.from);
    return true;
  });
}

/**
 * Gives back what a pop (`args`, replied `r`) took; a no-op for any other command or a reply
 * that took nothing. Never throws: a failed undo is logged (the value stays where it went).
 */
export async function undoPop(
  broker: Broker,
  logger: Logger,
  db: number,
  args: readonly Buffer[],
  r: Reply,
): Promise<void> {
  const undo = undoOf(args, r);
  if (!undo) return;
  try {
    const done = await apply(broker, db, undo);
    if (!done) logger.warn('popped value for a gone client left in place', { cmd: word(args[0]) });
  } catch (err) {
    logger.warn('could not give back a popped value', { cmd: word(args[0]), err: String(err) });
  }
}
