import { genPrivateMapKeyWithStringRoomId, Privilege } from '../../auth/private-map-key.ts';
import { genUserSig } from '../../auth/usersig.ts';
import type { Store } from '../../store/store.ts';
import { userIdProblem } from '../accounts/accounts-service.ts';
import type { App } from '../apps/apps-service.ts';
import { DomainError } from '../errors.ts';
import type { TrtcRoomsService } from '../trtc-rooms/trtc-rooms-service.ts';

/** Most users per CreateTRTCSignaturesWithRoomId / RemoveUserByRoomIdFromTRTC. */
const MAX_IOT_USERS = 10;
/** Validity of the UserSig and PrivateMapKey handed out, and how long the RoomId stays taken (unconfirmed). */
const IOT_SIGNATURE_EXPIRE_S = 86_400;
/** Longest string room id, in bytes. */
const MAX_STR_ROOM_ID_BYTES = 64;

/** One entry of TRTCParamList. */
interface TrtcParams {
  SdkAppId: number;
  UserId: string;
  UserSig: string;
  StrRoomId: string;
  PrivateKey: string;
}

const nowS = () => Math.floor(Date.now() / 1000);

function checkUsers(userIds: string[]): void {
  if (userIds.length > MAX_IOT_USERS) throw new DomainError('INVALID_ARGUMENT', `at most ${MAX_IOT_USERS} TRTCUserIds, got ${userIds.length}`, 'USER_LIMIT');
  if (new Set(userIds).size !== userIds.length) throw new DomainError('INVALID_ARGUMENT', 'TRTCUserIds contains a duplicate', 'DUPLICATE_USER');
  for (const u of userIds) {
    const problem = userIdProblem(u);
    if (problem) throw new DomainError('INVALID_ARGUMENT', `TRTCUserIds: ${problem}`, 'USER_ID');
  }
}

function requireTrtc(app: App): void {
  if (!app.settings.features.trtc) throw new DomainError('FAILED_PRECONDITION', 'the TRTC service is not enabled for this app', 'TRTC_OFF');
}

function checkRoom(roomId: string): void {
  if (roomId.length === 0 || Buffer.byteLength(roomId) > MAX_STR_ROOM_ID_BYTES) throw new DomainError('INVALID_ARGUMENT', `RoomId must be 1-${MAX_STR_ROOM_ID_BYTES} bytes`, 'ROOM_ID');
}

/**
 * IoT Explorer's TRTC calls: hands out a string room with a UserSig and a PrivateMapKey (that room only) per
 * user, and dismisses or removes users from the rooms it handed out.
 */
export class IotService {
  constructor(
    private readonly store: Store,
    private readonly trtcRooms: TrtcRoomsService,
  ) {}

  /** CreateTRTCSignaturesWithRoomId: reserves `roomId` and signs entry to it for up to 10 users. */
  async createSignatures(app: App, roomId: string, userIds: string[]): Promise<TrtcParams[]> {
    requireTrtc(app);
    checkUsers(userIds);
    if (userIds.length === 0) throw new DomainError('INVALID_ARGUMENT', 'TRTCUserIds is empty', 'USER_ID');
    checkRoom(roomId);
    const now = nowS();
    return this.store.transaction(async (tx) => {
      if ((await tx.trtc.iotRoom(app.sdkAppId, roomId, now)) || this.trtcRooms.exists(app.sdkAppId, { strRoomId: roomId })) {
        throw new DomainError('ALREADY_EXISTS', `RoomId ${roomId} already exists`, 'ROOM_EXISTS');
      }
      await tx.trtc.putIotRoom({ sdk_app_id: app.sdkAppId, room_id: roomId, user_ids: JSON.stringify(userIds), created_at: now, expires_at: now + IOT_SIGNATURE_EXPIRE_S });
      return userIds.map((userId) => ({
        SdkAppId: app.sdkAppId,
        UserId: userId,
        UserSig: genUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, userId, expire: IOT_SIGNATURE_EXPIRE_S, now }),
        StrRoomId: roomId,
        PrivateKey: genPrivateMapKeyWithStringRoomId({
          sdkAppId: app.sdkAppId,
          secretKey: app.secretKey,
          userId,
          expire: IOT_SIGNATURE_EXPIRE_S,
          strRoomId: roomId,
          privilegeMap: Privilege.All,
          now,
        }),
      }));
    });
  }

  /** DismissRoomByStrRoomIdFromTRTC: frees a room this API handed out and removes everyone in it. */
  async dismiss(app: App, roomId: string): Promise<void> {
    requireTrtc(app);
    checkRoom(roomId);
    await this.requireOwnRoom(app, roomId);
    await this.store.trtc.deleteIotRoom(app.sdkAppId, roomId);
    if (this.trtcRooms.exists(app.sdkAppId, { strRoomId: roomId })) await this.trtcRooms.dismiss(app.sdkAppId, { strRoomId: roomId });
  }

  /** RemoveUserByRoomIdFromTRTC: removes users from a room this API handed out. */
  async removeUsers(app: App, roomId: string, userIds: string[]): Promise<void> {
    checkRoom(roomId);
    checkUsers(userIds);
    await this.requireOwnRoom(app, roomId);
    if (this.trtcRooms.exists(app.sdkAppId, { strRoomId: roomId })) await this.trtcRooms.removeUsers(app.sdkAppId, { strRoomId: roomId }, userIds);
  }

  private async requireOwnRoom(app: App, roomId: string): Promise<void> {
    if (!(await this.store.trtc.iotRoom(app.sdkAppId, roomId, nowS()))) {
      throw new DomainError('PERMISSION_DENIED', `room ${roomId} was not created by CreateTRTCSignaturesWithRoomId (or has expired)`, 'NOT_IOT_ROOM');
    }
  }
}
