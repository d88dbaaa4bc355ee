// Digital-human projects (VirtualmanProjectId) and assets (AssetVirtualmanKey): written to the store by the service
// and by the CLI (`trtcd ivh project create`), which needs nothing else of a running service.
import { randomBytes } from 'node:crypto';
import type { Store } from '../../store/store.ts';
import { DomainError } from '../errors.ts';

/** Concurrent sessions a project or asset allows when created without a quota (unconfirmed). */
export const DEFAULT_AVATAR_CONCURRENCY = 5;

/** A project (VirtualmanProjectId) or asset (AssetVirtualmanKey) with its concurrency quota. */
export interface IvhAvatar {
  id: string;
  sdkAppId: number;
  kind: 'project' | 'asset';
  name: string;
  concurrency: number;
}

/** Writes a new project or asset (a random id when none is given); ALREADY_EXISTS when the id is taken. */
export async function addAvatar(
  store: Store,
  o: { sdkAppId: number; kind: IvhAvatar['kind']; id?: string; name?: string; concurrency?: number },
): Promise<IvhAvatar> {
  const id = o.id ?? randomBytes(16).toString('hex');
  const name = o.name ?? '';
  const concurrency = o.concurrency ?? DEFAULT_AVATAR_CONCURRENCY;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new DomainError('INVALID_ARGUMENT', 'the id must be 1-64 letters, digits, _ or -', 'INVALID');
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000) throw new DomainError('INVALID_ARGUMENT', 'concurrency must be 1-1000', 'INVALID');
  if (!(await store.ivh.addAvatar({ avatar_id: id, sdk_app_id: o.sdkAppId, kind: o.kind, name, concurrency, created_at: Date.now() }))) {
    throw new DomainError('ALREADY_EXISTS', `${o.kind} ${id} already exists`);
  }
  return { id, sdkAppId: o.sdkAppId, kind: o.kind, name, concurrency };
}
