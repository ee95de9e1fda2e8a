// Hydration and live-update check for the dashboard's wasm bundle, under jsdom (for
// machines without a browser). It loads the server-rendered page, runs the real bundle
// against it, and drives a stand-in EventSource:
//
//   bash scripts/build-web.sh
//   cargo run -p monban-web --features ssr --example dashboard_demo 127.0.0.1:3917 &
//   cd web/tests/jsdom && npm install && node hydrate-check.mjs
//
// Checks: data-hydrated="true" without refetching (the SSR data is reused), the live
// indicator's states, a burst of events coalesced into at most one refetch per second,
// the DOM updated in place, the 10-second fallback while the stream is broken, a closed
// stream reopened, a catch-up refetch on reconnect, and no console errors (a hydration
// mismatch panics into console.error). Takes about 15 seconds.
//
// jsdom is not a browser: the harness lets Node's global pass for `window` and copies
// the DOM interfaces that wasm-bindgen's glue checks with `instanceof`.
import { JSDOM, VirtualConsole } from 'jsdom';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const base = process.env.BASE ?? 'http://127.0.0.1:3917';
const pkg = process.env.PKG ?? path.join(repo, 'target/site/pkg');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const errors = [];
const origError = console.error;
console.error = (...a) => { errors.push(a.join(' ')); origError('[console.error]', ...a); };

const html = await (await fetch(base + '/')).text();
const vc = new VirtualConsole();
vc.on('jsdomError', () => {}); // the inline hydration script's dynamic import() is unsupported in jsdom
vc.on('error', (...a) => errors.push(a.join(' ')));
const dom = new JSDOM(html, { url: base + '/', runScripts: 'dangerously', virtualConsole: vc, pretendToBeVisual: true });
const w = dom.window;
const doc = w.document;
const q = (sel) => doc.querySelector(sel);
const text = (sel) => q(sel)?.textContent;

for (const k of [...Object.getOwnPropertyNames(w), ...w.eval('Object.getOwnPropertyNames(globalThis)')]) {
  if (!(k in globalThis)) { try { globalThis[k] = w[k]; } catch {} }
}
for (const k of ['Event', 'MessageEvent', 'EventTarget', 'CustomEvent', 'Element', 'Node', 'HTMLElement', 'Comment', 'Text',
  'Document', 'DocumentFragment', 'HTMLAnchorElement', 'HTMLDivElement', 'HTMLTemplateElement', 'Range', 'CharacterData',
  'HTMLInputElement', 'ShadowRoot', 'SVGElement', 'NodeList', 'HTMLCollection', 'DOMTokenList', 'CSSStyleDeclaration',
  'Location', 'History', 'Storage', 'Navigator', 'MouseEvent', 'KeyboardEvent', 'PopStateEvent', 'HashChangeEvent']) {
  if (w[k] !== undefined) globalThis[k] = w[k];
}
globalThis.window = w; globalThis.document = doc; globalThis.self = w;
// web_sys::window() is `globalThis as Window`: let Node's global pass for the window.
globalThis.Window = w.Window;
Object.defineProperty(w.Window, Symbol.hasInstance, { value: (o) => o === globalThis || o === w });
for (const k of ['addEventListener', 'removeEventListener', 'requestAnimationFrame', 'cancelAnimationFrame', 'dispatchEvent', 'getComputedStyle']) {
  globalThis[k] = w[k].bind(w);
}

// fetch: count calls, resolve relative URLs (the wasm fetches /api/dash/overview)
let fetches = []; let stamps = [];
const NodeRequest = Request;
globalThis.Request = class extends NodeRequest {
  constructor(u, i) { super(typeof u === 'string' ? new URL(u, base) : u, i); }
};
const nodeFetch = fetch;
globalThis.fetch = (input, init) => {
  const url = typeof input === 'string' ? input : input.url;
  fetches.push(url); stamps.push(Date.now());
  return nodeFetch(typeof input === 'string' ? new URL(input, base) : input, init);
};
w.fetch = globalThis.fetch;

// EventSource stand-in driven by the test
const sources = [];
class FakeEventSource {
  static CONNECTING = 0; static OPEN = 1; static CLOSED = 2;
  constructor(url) { this.url = url; this.readyState = 0; this.listeners = {}; this.onopen = this.onmessage = this.onerror = null; sources.push(this); }
  addEventListener(n, f) { (this.listeners[n] ??= []).push(f); }
  removeEventListener(n, f) { this.listeners[n] = (this.listeners[n] ?? []).filter((g) => g !== f); }
  close() { this.readyState = 2; }
  emit(name, ev) {
    const on = this['on' + name]; if (on) on(ev);
    for (const f of this.listeners[name] ?? []) f(ev);
  }
  open() { this.readyState = 1; this.emit('open', new w.Event('open')); }
  message(name = 'message') { this.emit(name, new w.MessageEvent(name, { data: '{}' })); }
  fail(closed) { this.readyState = closed ? 2 : 0; this.emit('error', new w.Event('error')); }
}
globalThis.EventSource = FakeEventSource; w.EventSource = FakeEventSource;

const check = (cond, msg) => { if (!cond) { console.log('FAIL:', msg); process.exitCode = 1; } else console.log('ok:', msg); };

const before = doc.body.innerHTML;
check(!q('[data-testid=overview]').hasAttribute('data-hydrated'), 'not hydrated before wasm runs');
const combinedBefore = text('[data-system-id=ehr] [data-testid=count-combined]');

// The glue is an ES module named .js; Node needs .mjs to load it as one.
const glue = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'monban-web-')), 'monban_web.mjs');
fs.copyFileSync(`${pkg}/monban_web.js`, glue);
const mod = await import(glue);
await mod.default({ module_or_path: fs.readFileSync(`${pkg}/monban_web_bg.wasm`) });
mod.hydrate();
await sleep(50);

check(q('[data-testid=overview]').getAttribute('data-hydrated') === 'true', 'data-hydrated="true" after hydration');
check(fetches.length === 0, `no fetch on hydration (resource reused): ${JSON.stringify(fetches)}`);
check(doc.querySelectorAll('[data-testid=system-row]').length === 4, 'system rows kept');
check(sources.length === 1 && sources[0].url === '/api/v1/live', 'EventSource opened on /api/v1/live');
check(q('[data-testid=live]').dataset.live === 'connecting', 'indicator: connecting');
sources[0].open(); await sleep(10);
check(q('[data-testid=live]').dataset.live === 'live' && text('[data-testid=live]').includes('ライブ'), 'indicator: live');

// advance the demo's counter by reading one message from the real stream
const ctl = new AbortController();
const live = await nodeFetch(base + '/api/v1/live', { signal: ctl.signal });
const reader = live.body.getReader(); await reader.read(); ctl.abort();

// a burst of 6 events -> one refetch
fetches = [];
for (let i = 0; i < 5; i++) sources[0].message();
sources[0].message('login');
await sleep(1500);
check(fetches.length === 1, `burst coalesced into one refetch: ${fetches.length} ${JSON.stringify(fetches)}`);
await sleep(300);
const combinedAfter = text('[data-system-id=ehr] [data-testid=count-combined]');
check(combinedAfter !== combinedBefore, `DOM updated without reload: count-combined ${combinedBefore} -> ${combinedAfter}`);
check(q('[data-testid=overview]').getAttribute('data-hydrated') === 'true', 'still hydrated after refetch');

// a second burst later: at most one more
fetches = []; stamps = [];
sources[0].message(); await sleep(100); sources[0].message(); sources[0].message('door');
await sleep(100); sources[0].message('verdict');
await sleep(1300);
check(fetches.length === 2 && stamps[1] - stamps[0] >= 950, `second burst: leading + one trailing refetch, >= 1 s apart (${fetches.length}, ${stamps[1] - stamps[0]} ms)`);

// stream fails and closes -> polling every 10 s + reopen
fetches = [];
sources[0].fail(true); await sleep(10);
check(q('[data-testid=live]').dataset.live === 'polling', 'indicator: polling after error');
await sleep(11000);
check(fetches.length >= 1, `fallback refetch while in error (${fetches.length})`);
check(sources.length === 2 && sources[0].readyState === 2, `closed stream reopened (${sources.length} sources)`);
fetches = [];
sources[1].open(); await sleep(1200);
check(q('[data-testid=live]').dataset.live === 'live', 'indicator: live again');
check(fetches.length === 1, `catch-up refetch after reconnect (${fetches.length})`);

check(errors.length === 0, `no console errors: ${JSON.stringify(errors).slice(0, 500)}`);
console.log(process.exitCode ? 'FAILED' : 'ALL OK');
process.exit(process.exitCode ?? 0);
