// An Io that times fdatasync for the metrics, passing everything else straight through.
import type { Io } from '../../storage/io';

export function timedIo(io: Io, onFsync: (seconds: number) => void): Io {
  return {
    ...io,
    fdatasync: async (fd) => {
      const t0 = performance.now();
      try {
        await io.fdatasync(fd);
      } finally {
        onFsync((performance.now() - t0) / 1000);
      }
    },
  };
}
