// The full command table, assembled from each family's rows.
import { CommandTable } from './table';
import { genericRows } from './generic';
import { streamsRows } from './streams';
import { groupsRows } from './groups';
import { listsRows } from './lists';
import { pubsubRows } from './pubsub';
import { serverRows } from './server';
import { memoryRows } from './memory';
import { persistenceRows } from './persistence';
import { connectionRows } from './connection';

export function buildCommandTable(): CommandTable {
  const rows = [
    ...genericRows,
    ...streamsRows,
    ...groupsRows,
    ...listsRows,
    ...pubsubRows,
    ...serverRows,
    ...memoryRows,
    ...persistenceRows,
    ...connectionRows,
  ];
  return new CommandTable(rows);
}

export { CommandTable } from './table';
export { Dispatcher } from './dispatch';
export type { WriteDone } from './dispatch';
export type { Session, ExecLimits } from './context';
