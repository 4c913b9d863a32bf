// groups commands (filled in by their work item).
import type { CommandRow } from './table';

export const groupsRows: CommandRow[] = [];
