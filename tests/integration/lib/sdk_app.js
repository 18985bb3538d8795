// SPDX-License-Identifier: Apache-2.0
// Plays the mini-program against `smartcfg cloud` with Tencent's published SDK, unmodified:
// qcloud-iotexplorer-appdev-sdk (AppDevSdk, its requestTokenApi and login) and
// qcloud-iotexplorer-appdev-plugin-wificonf-core (queryTokenStateAndBind, the poller the
// provisioning flows use). The only local part is a shim for the few `wx` APIs they call.
// Pointing it at us uses the SDK's own `apiUrl` constructor option (default
// https://iot.cloud.tencent.com/api/exploreropen/): it requests <apiUrl>tokenapi?uin=…&cmd=<Action>.
// usage: node sdk_app.js <node_modules dir> <apiUrl ending in /> <token file> [v2|v3]
//   v2: AppGetDeviceBindTokenState polling, then AppTokenBindDeviceFamily (the SDK's default flow)
//   v3: newTokenVersion, AppGetMultiDeviceBindTokenState polling (no family binding)
'use strict';
const fs = require('fs');
const path = require('path');
const [modules, apiUrl, tokenFile, flow = 'v2'] = process.argv.slice(2);

require('./wx_shim');

const req = m => require(path.join(modules, m));
const { AppDevSdk } = req('qcloud-iotexplorer-appdev-sdk');
const { queryTokenStateAndBind } = req('qcloud-iotexplorer-appdev-plugin-wificonf-core/lib/WifiConfProtocolBase/queryTokenStateAndBind');

(async () => {
  const sdk = new AppDevSdk({
    appKey: 'local',
    apiUrl,
    // The AccessToken the test harness got from AppGetToken (the app's login is not the SDK's job).
    getAccessToken: async () => ({ Token: process.env.SC_ACCESS_TOKEN || '' }),
    wsConfig: { autoReconnect: false },
  });
  const created = await sdk.requestApi('AppCreateDeviceBindToken', {}, { isTokenApi: true });
  console.log('CREATED ' + JSON.stringify({ len: created.Token.length, ExpireTime: created.ExpireTime }));
  fs.writeFileSync(tokenFile + '.tmp', created.Token);
  fs.renameSync(tokenFile + '.tmp', tokenFile);   // the test's device side waits for this file
  const steps = [];
  const res = await queryTokenStateAndBind({
    sdk, token: created.Token, familyId: process.env.SC_FAMILY_ID, roomId: '0', newTokenVersion: flow === 'v3',
    onProgress: p => steps.push(p.code),
  });
  console.log('STEPS ' + steps.join(','));
  console.log('RESULT ' + JSON.stringify(res));
})().catch(e => { console.log('ERROR ' + JSON.stringify(e, Object.getOwnPropertyNames(e))); process.exit(1); });
