// SPDX-License-Identifier: Apache-2.0
// A stand-in for the few `wx` (WeChat mini-program) APIs Tencent's SDK calls, on node:
// wx.request over http, storage in memory, and wx.createUDPSocket over dgram (the wificonf
// flow's UDP 8266 exchange). Requiring it installs global.wx.
'use strict';
const http = require('http');
const dgram = require('dgram');

const storage = {};
const done = (o, fn, arg) => { if (o[fn]) o[fn](arg); if (o.complete) o.complete(arg); };
global.wx = {
  request(o) {
    const body = o.data === undefined ? '' : JSON.stringify(o.data);
    const req = http.request(o.url, {
      method: o.method || 'GET',
      headers: Object.assign({ 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }, o.header || {}),
    }, res => {
      let s = '';
      res.setEncoding('utf8');
      res.on('data', c => { s += c; });
      res.on('end', () => {
        let data = s;
        try { data = JSON.parse(s); } catch (e) { /* wx.request hands back text when it is not JSON */ }
        done(o, 'success', { statusCode: res.statusCode, data, header: res.headers });
      });
    });
    req.on('error', e => done(o, 'fail', { errMsg: 'request:fail ' + e.message }));
    req.end(body);
  },
  // No websocket in this test: the SDK opens one lazily for device push, never for the token API.
  connectSocket() { return { onOpen() {}, onClose() {}, onError() {}, onMessage() {}, close() {}, send() {} }; },
  getStorage(o) { o.key in storage ? done(o, 'success', { data: storage[o.key] }) : done(o, 'fail', { errMsg: 'getStorage:fail data not found' }); },
  setStorage(o) { storage[o.key] = o.data; done(o, 'success', {}); },
  removeStorage(o) { delete storage[o.key]; done(o, 'success', {}); },
  getSystemInfoSync() { return { platform: 'devtools', system: 'node', SDKVersion: '2.20.0', version: '8.0.0' }; },
  onAppShow() {}, onAppHide() {},
  login(o) { done(o, 'success', { code: 'local' }); },
  showModal() {}, showToast() {}, hideToast() {}, showLoading() {}, hideLoading() {},
};

// wificonf-core reads `navigator` at load time (a mini-program global); declare it absent.
if (!('navigator' in global)) global.navigator = undefined;

// wx.createUDPSocket: bind(port) returns the port (dgram queues sends until bound, as the
// mini-program's socket does); messages arrive as { message: ArrayBuffer, remoteInfo }.
global.wx.createUDPSocket = () => {
  const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  const handlers = { message: new Set(), error: new Set(), close: new Set(), listening: new Set() };
  sock.on('message', (buf, rinfo) => {
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
    for (const h of handlers.message) h({ message: ab, remoteInfo: { address: rinfo.address, port: rinfo.port, size: rinfo.size } });
  });
  sock.on('error', e => { for (const h of handlers.error) h({ errMsg: e.message }); });
  sock.on('close', () => { for (const h of handlers.close) h({}); });
  sock.on('listening', () => { for (const h of handlers.listening) h({}); });
  const api = {
    bind(port) { sock.bind(port || 0); return port || 0; },
    send({ address, port, message, offset, length }) {
      let buf = typeof message === 'string' ? Buffer.from(message, 'utf8') : Buffer.from(message);
      if (offset !== undefined || length !== undefined) buf = buf.subarray(offset || 0, (offset || 0) + (length ?? buf.length));
      sock.send(buf, port, address);
    },
    close() { try { sock.close(); } catch (e) { /* already closed */ } },
  };
  for (const ev of Object.keys(handlers)) {
    const cap = ev[0].toUpperCase() + ev.slice(1);
    api['on' + cap] = h => handlers[ev].add(h);
    api['off' + cap] = h => handlers[ev].delete(h);
  }
  return api;
};
