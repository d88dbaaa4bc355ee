/** Row of `apps`: one tenant (SDKAppID) with its credentials; mutable settings live in `settings` (JSON). */
export interface AppsTable {
  sdk_app_id: number;
  secret_key: string;
  cloud_secret_id: string;
  cloud_secret_key: string;
  ivh_app_key: string;
  ivh_access_token: string;
  settings: string;
  created_at: number;
  updated_at: number;
  revision: number;
}

/** Row of `accounts`: a UserID imported into an app (im_open_login_svc). */
export interface AccountsTable {
  sdk_app_id: number;
  user_id: string;
  nick: string;
  face_url: string;
  created_at: number;
  updated_at: number;
}

/** Every table the store holds, for the typed query builder. */
export interface Database {
  apps: AppsTable;
  accounts: AccountsTable;
}
