// Work for the end of this turn of the event loop, after every read the turn took in: one
// setImmediate runs all of it, and work queued while it runs (a log asked to write by a task
// before it) runs in the same pass. With a setImmediate each, work queued from inside another
// immediate would wait for the next turn: a front end that stages commands at the turn's end
// (src/resp/coalesce.ts) would then see their log written a whole turn later.

type Task = () => void;

const tasks: Task[] = [];
let scheduled = false;

/** Runs `task` at the end of this turn (the check phase), after the tasks queued before it. */
export function atTurnEnd(task: Task): void {
  tasks.push(task);
  if (scheduled) return;
  scheduled = true;
  setImmediate(runTasks);
}

function runTasks(): void {
  let failure: { err: unknown } | null = null;
  // Tasks may queue more: they join this pass (the length is read at each step).
  for (let i = 0; i < tasks.length; i++) {
    try {
      (tasks[i] as Task)();
    } catch (err) {
      // One task's bug does not keep the others (another log's write) from running.
      failure ??= { err };
    }
  }
  tasks.length = 0;
  scheduled = false;
  if (failure) throw failure.err;
}
