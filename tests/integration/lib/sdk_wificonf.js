// SPDX-License-Identifier: Apache-2.0
// Tencent's published mini-program SDK as the app of a whole SmartConfig provisioning.
// qcloud-iotexplorer-appdev-plugin-wificonf-core's WifiConfProtocolBase is the app's flow:
// start() -> doProtocol() (the Wi-Fi protocol, returns the device's address) -> doBusiness():
// the token to the device over UDP 8266 with the SDK's own UdpServer (bound to port 8266,
// resent every 2 s), then queryTokenStateAndBind (token-state polling, family binding).
// Everything but doProtocol is the SDK's code, unmodified. doProtocol is what Tencent's
// SmartConfig plugin does on a phone; here `smartcfg send --no-token` transmits the ESP-TOUCH
// datagrams and reports the device's ack.
// usage: node sdk_wificonf.js <node_modules> <apiUrl/> <smartcfg> <ssid> <bssid> <phone-ip> <iface>
//        (the Wi-Fi password on stdin)
'use strict';
const path = require('path');
const { spawn } = require('child_process');
require('./wx_shim');
if (!('navigator' in global)) global.navigator = undefined;

const [modules, apiUrl, smartcfg, ssid, bssid, phoneIp, iface] = process.argv.slice(2);
const req = m => require(path.join(modules, m));
const { AppDevSdk } = req('qcloud-iotexplorer-appdev-sdk');
const { WifiConfProtocolBase } = req('qcloud-iotexplorer-appdev-plugin-wificonf-core');

class SmartcfgSendProtocol extends WifiConfProtocolBase {
  doProtocol({ SSID, BSSID, password }) {
    return new Promise((resolve, reject) => {
      const args = ['send', '--ssid', SSID, '--password-file', '-', '--bssid', BSSID, '--ip', phoneIp,
        '--iface', iface, '--no-token', '--count', '1', '--timeout', '60', '--json'];
      const child = spawn(smartcfg, args, { stdio: ['pipe', 'pipe', 'inherit'] });
      child.stdin.end(password + '\n');
      let address = null;
      let rest = '';
      child.stdout.on('data', chunk => {
        rest += chunk;
        let i;
        while ((i = rest.indexOf('\n')) >= 0) {
          const line = rest.slice(0, i);
          rest = rest.slice(i + 1);
          let e;
          try { e = JSON.parse(line); } catch (err) { continue; }
          console.log('SEND ' + e.event);
          if (e.event === 'ack' && !address) address = e.ip;
        }
      });
      child.on('exit', code => (code === 0 && address ? resolve({ address }) : reject({ code: 'SEND_EXIT_' + code })));
    });
  }
}

(async () => {
  const password = require('fs').readFileSync(0, 'utf8').replace(/\n$/, '');
  const sdk = new AppDevSdk({
    appKey: 'local',
    apiUrl,
    // The AccessToken the test harness got from AppGetToken (the app's login is not the SDK's job).
    getAccessToken: async () => ({ Token: process.env.SC_ACCESS_TOKEN || '' }),
    wsConfig: { autoReconnect: false },
  });
  const created = await sdk.requestApi('AppCreateDeviceBindToken', {}, { isTokenApi: true });
  console.log('TOKEN created (' + created.Token.length + ' chars)');
  const conf = new SmartcfgSendProtocol(sdk, {
    wifiConfType: 'smartconfig',
    targetWifiInfo: { SSID: ssid, password, BSSID: bssid },
    wifiConfToken: created.Token,
    udpPort: 8266,
    stepInterval: 100,
    familyId: process.env.SC_FAMILY_ID,
    roomId: '0',
    autoBind: true,
    autoRetry: false,
    onProgress: p => console.log('STEP ' + p.code),
    onComplete: info => { console.log('RESULT ' + JSON.stringify({ productId: info.productId, deviceName: info.deviceName })); process.exit(0); },
    onError: e => { console.log('ERROR ' + JSON.stringify({ code: e.code, msg: e.msg })); process.exit(1); },
  });
  conf.start();
})().catch(e => { console.log('ERROR ' + JSON.stringify(e, Object.getOwnPropertyNames(e))); process.exit(1); });
