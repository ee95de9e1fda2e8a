//! Keeps the hydrated dashboard current (browser only, `hydrate` feature).
//!
//! The hub announces every stored login, verdict and door event on the Server-Sent
//! Events stream `GET /api/v1/live`; the payload does not matter, any message means
//! "something changed". On a message the overview is refetched — at most about once per
//! second, so a burst of events (a shift change at the door) costs one request, not
//! hundreds. While the stream is broken a 10-second timer refetches instead, and a
//! closed stream (the browser gave up, e.g. after a 404) is reopened on that timer.
//! When the stream comes back the overview is refetched once to catch up.
//!
//! Unnamed messages and the event names `login`, `verdict` and `door` are all heard, so
//! the server may name its events or not.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::time::Duration;

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Event, EventSource};

use crate::app::LiveStatus;

/// The hub's event stream (owned by the server crate).
const LIVE_URL: &str = "/api/v1/live";
/// Named SSE events that also mean "refetch".
const NAMED_EVENTS: [&str; 3] = ["login", "verdict", "door"];
/// Minimum gap between two refetches caused by events.
const MIN_GAP_MS: f64 = 1_000.0;
/// Fallback refetch period while the stream is not open.
const FALLBACK_PERIOD: Duration = Duration::from_secs(10);

/// Starts following the hub. Call once, from an effect (after hydration); everything is
/// torn down when the effect's owner is cleaned up.
pub fn start(refetch: impl Fn() + 'static, set_status: WriteSignal<LiveStatus>) {
    let shared = Rc::new(Shared {
        refetch: Box::new(refetch),
        set_status,
        // The server-rendered data is fresh at hydration time.
        last_fetch_ms: Cell::new(js_sys::Date::now()),
        pending: Cell::new(false),
        open: Cell::new(false),
        was_broken: Cell::new(false),
        feed: RefCell::new(None),
    });
    set_status.set(LiveStatus::Connecting);
    connect(&shared);

    let ticking = Rc::clone(&shared);
    let interval = set_interval_with_handle(move || tick(&ticking), FALLBACK_PERIOD).ok();

    // A full page load (a form's redirect, a link) must not leave the stream open: the
    // browser allows only a few connections per host, and streams of pages being left
    // would starve the next page's requests. Leptos' cleanup does not run on unload, so
    // the stream is closed on `pagehide` (a page restored from the back/forward cache
    // reopens it on the next tick).
    let hiding = Rc::downgrade(&shared);
    let on_hide: Handler = Closure::new(move |_: Event| {
        if let Some(shared) = hiding.upgrade() {
            shared.open.set(false);
            shared.feed.replace(None);
        }
    });
    let window = web_sys::window();
    if let Some(w) = &window {
        let _ = w.add_event_listener_with_callback("pagehide", on_hide.as_ref().unchecked_ref());
    }

    // Owner cleanup must be Send + Sync; the browser has one thread, and SendWrapper
    // asserts that this runs on it.
    let teardown = SendWrapper::new((shared, interval, on_hide, window));
    on_cleanup(move || {
        let (shared, interval, on_hide, window) = teardown.take();
        if let Some(interval) = interval {
            interval.clear();
        }
        if let Some(w) = window {
            let _ =
                w.remove_event_listener_with_callback("pagehide", on_hide.as_ref().unchecked_ref());
        }
        shared.feed.replace(None);
    });
}

struct Shared {
    refetch: Box<dyn Fn()>,
    set_status: WriteSignal<LiveStatus>,
    /// When the last refetch started (ms since the epoch, browser clock).
    last_fetch_ms: Cell<f64>,
    /// A refetch is scheduled and has not run yet.
    pending: Cell<bool>,
    /// The stream is open (the last `open` came after the last `error`).
    open: Cell<bool>,
    /// The stream has failed since it was last open: refetch on reopening.
    was_broken: Cell<bool>,
    feed: RefCell<Option<Feed>>,
}

type Handler = Closure<dyn FnMut(Event)>;

/// An open `EventSource` and the handlers that must live as long as it does; a handler
/// with a name was added with `addEventListener(name, …)`.
struct Feed {
    source: EventSource,
    handlers: Vec<(Option<&'static str>, Handler)>,
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.source.close();
        self.source.set_onopen(None);
        self.source.set_onerror(None);
        self.source.set_onmessage(None);
        for (name, handler) in &self.handlers {
            if let Some(name) = name {
                let _ = self
                    .source
                    .remove_event_listener_with_callback(name, handler.as_ref().unchecked_ref());
            }
        }
    }
}

/// Asks for a refetch, coalescing: the first request after a quiet second runs at once,
/// later ones within the second merge into one that runs when the second is up.
fn request_refetch(shared: &Rc<Shared>) {
    if shared.pending.replace(true) {
        return;
    }
    let wait_ms = (shared.last_fetch_ms.get() + MIN_GAP_MS - js_sys::Date::now()).max(0.0);
    let target = Rc::clone(shared);
    set_timeout(
        move || {
            target.pending.set(false);
            target.last_fetch_ms.set(js_sys::Date::now());
            (target.refetch)();
        },
        Duration::from_millis(wait_ms as u64),
    );
}

/// Every [`FALLBACK_PERIOD`]: refetch unless the stream is open; reopen a closed stream.
fn tick(shared: &Rc<Shared>) {
    if shared.open.get() {
        return;
    }
    request_refetch(shared);
    let closed = shared
        .feed
        .borrow()
        .as_ref()
        .is_none_or(|feed| feed.source.ready_state() == EventSource::CLOSED);
    if closed {
        connect(shared);
    }
}

/// Opens (or reopens) the stream.
fn connect(shared: &Rc<Shared>) {
    shared.feed.replace(None);
    let source = match EventSource::new(LIVE_URL) {
        Ok(source) => source,
        Err(_) => {
            mark_broken(shared);
            return;
        }
    };
    let weak = Rc::downgrade(shared);
    let mut handlers = Vec::with_capacity(3 + NAMED_EVENTS.len());

    let on_open = handler(&weak, |shared| {
        shared.open.set(true);
        shared.set_status.set(LiveStatus::Live);
        if shared.was_broken.replace(false) {
            request_refetch(shared);
        }
    });
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    handlers.push((None, on_open));

    let on_error = handler(&weak, mark_broken);
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    handlers.push((None, on_error));

    let on_message = handler(&weak, request_refetch);
    source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    handlers.push((None, on_message));

    for name in NAMED_EVENTS {
        let on_named = handler(&weak, request_refetch);
        if source
            .add_event_listener_with_callback(name, on_named.as_ref().unchecked_ref())
            .is_ok()
        {
            handlers.push((Some(name), on_named));
        }
    }

    shared.feed.replace(Some(Feed { source, handlers }));
}

fn mark_broken(shared: &Rc<Shared>) {
    shared.open.set(false);
    shared.was_broken.set(true);
    shared.set_status.set(LiveStatus::Polling);
}

/// A JS event handler that calls `f` while the dashboard is still alive.
fn handler(weak: &Weak<Shared>, f: fn(&Rc<Shared>)) -> Handler {
    let weak = weak.clone();
    Closure::new(move |_event: Event| {
        if let Some(shared) = weak.upgrade() {
            f(&shared);
        }
    })
}
