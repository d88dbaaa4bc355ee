// Official tencentcloud-sdk-nodejs clients pointed at a local trtcd.
import { Agent } from 'node:http';
import { iotexplorer } from 'tencentcloud-sdk-nodejs/tencentcloud/services/iotexplorer/index.js';
import { trtc } from 'tencentcloud-sdk-nodejs/tencentcloud/services/trtc/index.js';

/** An HTTP agent that resolves every name to 127.0.0.1, so product endpoints (trtc.tencentcloudapi.com:PORT) reach trtcd. */
export function loopbackAgent(): Agent {
  return new Agent({
    lookup: ((_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) => (o.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4))) as never,
  });
}

/** The official TRTC Cloud API client (v20190722) talking to the trtcd at `serverUrl` with an app's Cloud API key. */
export function trtcCloudClient(serverUrl: string, credential: { secretId: string; secretKey: string }): InstanceType<typeof trtc.v20190722.Client> {
  return new trtc.v20190722.Client({
    credential,
    region: 'ap-guangzhou',
    profile: { httpProfile: { endpoint: `trtc.tencentcloudapi.com:${new URL(serverUrl).port}`, protocol: 'http://', reqTimeout: 10, agent: loopbackAgent() } },
  });
}

/** The official IoT Explorer Cloud API client (v20190423) talking to the trtcd at `serverUrl` with an app's Cloud API key. */
export function iotCloudClient(serverUrl: string, credential: { secretId: string; secretKey: string }): InstanceType<typeof iotexplorer.v20190423.Client> {
  return new iotexplorer.v20190423.Client({
    credential,
    region: 'ap-guangzhou',
    profile: { httpProfile: { endpoint: `iotexplorer.tencentcloudapi.com:${new URL(serverUrl).port}`, protocol: 'http://', reqTimeout: 10, agent: loopbackAgent() } },
  });
}
