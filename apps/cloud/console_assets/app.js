// SPDX-License-Identifier: Apache-2.0
// The console page: renders /console/api/state, changes things through the admin API
// (/v1/..., authorized by the session cookie plus the X-CSRF-Token header), and follows
// /console/api/events (server-sent events). Every value goes into the page as text, never HTML.
'use strict';
let csrf = '';

// Text a device, an app or a user chose can hold bidirectional controls, which reorder what the
// browser shows around them (U+202E shows a name reversed), and other invisible controls: each
// is shown as [U+XXXX] instead. Every string goes into the page through el() or show().
const visible = s => String(s).replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g,
  c => '[U+' + c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0') + ']');

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'on') for (const [ev, f] of Object.entries(v)) e.addEventListener(ev, f);
    else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(visible(k)));
  return e;
}
const when = t => t ? new Date(t * 1000).toLocaleString() : '—';
function show(id, text) { const e = document.getElementById(id); e.textContent = visible(text); e.hidden = !text; }

async function api(method, path, body) {
  const r = await fetch(path, {
    method, credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
    body: body ? JSON.stringify(body) : undefined,
  });
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(j.error || ('HTTP ' + r.status));
  return j;
}

async function act(f) {
  show('error', '');
  try { await f(); } catch (e) { show('error', e.message); }
  await refresh();
}

function productBlock(p) {
  const rows = p.devices.map(d => el('tr', { 'data-device': p.product_id + '/' + d.device_name },
    el('td', {}, d.device_name),
    el('td', { class: 'state' }, el('span', { class: d.bound ? 'state-bound' : 'state-unbound' }, d.bound ? 'bound' : 'not bound')),
    el('td', {}, d.family_id || '—'),
    el('td', {}, d.last_seen ? when(d.last_seen) + ' (' + d.last_event.replace(/_/g, ' ') + ')' : 'not seen this run'),
    el('td', {}, when(d.created)),
    el('td', {},
      d.bound ? el('button', { type: 'button', on: { click: () => act(() =>
        api('DELETE', '/v1/bindings/' + encodeURIComponent(p.product_id) + '/' + encodeURIComponent(d.device_name))) } }, 'Unbind') : '',
      ' ',
      el('button', { type: 'button', class: 'danger', on: { click: () => {
        if (confirm('Delete device ' + d.device_name + '?'))
          act(() => api('DELETE', '/v1/products/' + encodeURIComponent(p.product_id) + '/devices/' + encodeURIComponent(d.device_name)));
      } } }, 'Delete'))));
  const input = el('input', { placeholder: 'device name', required: '', pattern: '[A-Za-z0-9_.:@\\-]{1,48}', class: 'device-name' });
  const form = el('form', { class: 'inline new-device', on: { submit: ev => {
    ev.preventDefault();
    act(async () => {
      const r = await api('POST', '/v1/products/' + encodeURIComponent(p.product_id) + '/devices', { device_name: input.value });
      show('notice', 'Device ' + p.product_id + '/' + r.device_name + ' created. Its secret (PSK), shown only now: ' + r.device_secret);
    });
  } } }, input, el('button', { type: 'submit' }, 'Add device'));
  return el('div', { class: 'product', 'data-product': p.product_id },
    el('h3', {}, p.product_id, ' ', el('small', {}, '(created ' + when(p.created) + ')'), ' ',
      el('button', { type: 'button', class: 'danger delete-product', on: { click: () => {
        if (confirm('Delete product ' + p.product_id + ' with all its devices and tokens?'))
          act(() => api('DELETE', '/console/api/products/' + encodeURIComponent(p.product_id)));
      } } }, 'Delete product')),
    form,
    el('table', {}, el('thead', {}, el('tr', {}, ...['device', 'binding', 'family', 'last seen', 'created', ''].map(h => el('th', {}, h)))),
      el('tbody', {}, ...rows)));
}

async function refresh() {
  const r = await fetch('/console/api/state', { credentials: 'same-origin' });
  if (r.status === 401) { document.body.textContent = 'Logged out: open a new login link.'; return; }
  const s = await r.json();
  csrf = s.csrf;
  document.getElementById('products').replaceChildren(...s.products.map(productBlock));
  document.querySelector('#tokens tbody').replaceChildren(...s.tokens.map(t => el('tr', {},
    el('td', {}, t.token), el('td', { class: 'state' }, el('span', { class: 'state-' + t.state }, t.state)),
    el('td', {}, t.device_name ? t.product_id + '/' + t.device_name : '—'),
    el('td', {}, when(t.created)), el('td', {}, when(t.expire)), el('td', {}, t.user_id || '—'))));
  document.body.dataset.loaded = String(Date.now());
}

function follow() {
  const src = new EventSource('/console/api/events');
  const live = document.getElementById('live');
  const list = document.getElementById('events');
  let pending = null;
  src.onopen = () => { live.textContent = 'events: live'; live.className = 'pill on'; };
  src.onerror = () => { live.textContent = 'events: reconnecting'; live.className = 'pill off'; };
  src.onmessage = m => {
    let e;
    try { e = JSON.parse(m.data); } catch { return; }
    const who = e.product_id ? ' ' + e.product_id + (e.device_name ? '/' + e.device_name : '') : '';
    const rest = Object.entries(e).filter(([k]) => !['v', 't_ms', 'ts', 'event', 'product_id', 'device_name'].includes(k))
      .map(([k, v]) => k + '=' + (typeof v === 'object' ? JSON.stringify(v) : v)).join(' ');
    list.prepend(el('li', { 'data-event': e.event }, new Date(e.ts).toLocaleTimeString() + ' ' + e.event + who + (rest ? ' ' + rest : '')));
    while (list.children.length > 300) list.lastChild.remove();
    // Coalesce: a burst of events refreshes the tables once.
    clearTimeout(pending);
    pending = setTimeout(refresh, 150);
  };
}

document.getElementById('new-product').addEventListener('submit', ev => {
  ev.preventDefault();
  const id = document.getElementById('product-id');
  act(async () => {
    const r = await api('POST', '/v1/products', { product_id: id.value });
    show('notice', 'Product ' + r.product_id + ' created. Its secret, shown only now: ' + r.product_secret);
    id.value = '';
  });
});
document.getElementById('logout').addEventListener('click', async () => {
  await fetch('/console/logout', { method: 'POST', headers: { 'X-CSRF-Token': csrf } });
  location.reload();
});
refresh().then(follow);
