import type { ActionTable } from './action.ts';
import { iotExplorerActions } from './iotexplorer.ts';
import { trtcActions } from './trtc.ts';

/** Every Cloud API 3.0 action trtcd serves, keyed `"<version>/<action>"`. */
export const cloudActions: ActionTable = { ...iotExplorerActions, ...trtcActions };
