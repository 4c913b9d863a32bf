// generic commands (filled in by their work item).
import type { CommandRow } from './table';

export const genericRows: CommandRow[] = [];
