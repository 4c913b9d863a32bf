// Consumer groups of one stream: groups, consumers and pending entries lists, kept in memory
// and made durable as extension records in the stream's own log (see StreamExtension).
// (Skeleton: filled in by the consumer-groups work.)
import type { StreamExtension } from '../../storage/stream-log';

export class StreamGroups implements StreamExtension {
  restore(_snapshot: Buffer | null): void {}
  apply(_kind: number, _body: Buffer): void {}
  snapshot(): Buffer | null {
    return null;
  }
  /** Number of groups (XINFO STREAM `groups`). */
  get size(): number {
    return 0;
  }
}
