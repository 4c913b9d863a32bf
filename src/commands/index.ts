// The full command table, assembled from each family's rows.
import { CommandTable } from './table';
import { genericRows } from './generic';
import { streamsRows } from './streams';
import { groupsRows } from './groups';

export function buildCommandTable(): CommandTable {
  return new CommandTable([...genericRows, ...streamsRows, ...groupsRows]);
}

export { CommandTable } from './table';
export { Dispatcher } from './dispatch';
export type { Session, ExecLimits } from './context';
