//! The browser's WebSocket client as Leptos signals: connection status, latency from
//! heartbeats and the time of the last message. It reconnects with full-jitter backoff (at
//! once when the browser comes back online or the tab becomes visible), never after 4403,
//! resubscribes with `since` and hands the page what it must apply, or tells it to reload.
//! On the server it only holds the signals (rendered as `connecting`).

use crate::live::ledger::Start;
use crate::ws::{ClientFrame, Event};
use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use leptos::prelude::*;
use leptos::LazyViewError;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

/// What the status indicator shows (`connection-status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Connecting,
    Connected,
    Reconnecting,
    Offline,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Connecting => "connecting",
            Status::Connected => "connected",
            Status::Reconnecting => "reconnecting",
            Status::Offline => "offline",
        }
    }
}

/// What the page is told.
#[derive(Clone, Debug)]
pub enum Incoming {
    /// A channel event, in order and once.
    Event(Event),
    /// A `chat` was stored with this offset.
    Ack { id: String, offset: u64 },
    /// (Re)connected and subscribed.
    Connected,
    /// Something was missed and could not be recovered: load the data over HTTP again.
    Reload,
}

/// The page's handle on its connection. Cheap to copy; sends queue while disconnected.
#[derive(Clone, Copy)]
pub struct LiveSocket {
    status: RwSignal<Status>,
    browser_online: RwSignal<bool>,
    pub latency_ms: RwSignal<Option<u32>>,
    /// Milliseconds since the Unix epoch of the last frame received.
    pub last_message_ms: RwSignal<Option<f64>>,
    outgoing: StoredValue<Option<UnboundedSender<ClientFrame>>>,
}

impl Default for LiveSocket {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveSocket {
    pub fn new() -> Self {
        Self {
            status: RwSignal::new(Status::Connecting),
            browser_online: RwSignal::new(true),
            latency_ms: RwSignal::new(None),
            last_message_ms: RwSignal::new(None),
            outgoing: StoredValue::new(None),
        }
    }

    /// The status to show: `offline` whenever the browser says it has no network.
    pub fn status(&self) -> Status {
        if self.browser_online.get() {
            self.status.get()
        } else {
            Status::Offline
        }
    }

    pub fn is_connected(&self) -> bool {
        self.status.get_untracked() == Status::Connected && self.browser_online.get_untracked()
    }

    /// Sends a frame now, or once connected (in order).
    pub fn send(&self, frame: ClientFrame) {
        self.outgoing.with_value(|tx| {
            if let Some(tx) = tx {
                let _ = tx.unbounded_send(frame);
            }
        });
    }

    /// Opens the connection (in the browser; nothing on the server) and subscribes to
    /// `channels`, each from where the page's data stands in it; `on` receives what the page
    /// must apply. Stops when the page's owner is cleaned up.
    pub fn start(&self, channels: Vec<(String, Start)>, on: impl Fn(Incoming) + 'static) {
        let on: Rc<dyn Fn(Incoming)> = Rc::new(on);
        self.start_loading(channels, Box::pin(async move { Ok(on) }));
    }

    /// `start` with a handler still to be loaded: its code comes from a chunk (`pages::budget`'s
    /// `budget_events`, in the page's parts chunk), fetched with the connection's loop, before
    /// the connection opens.
    pub fn start_loading(&self, channels: Vec<(String, Start)>, on: LoadHandler) {
        let (tx, rx) = unbounded();
        self.outgoing.set_value(Some(tx));
        #[cfg(not(feature = "ssr"))]
        browser::start(*self, channels, rx, on);
        #[cfg(feature = "ssr")]
        drop((channels, rx, on));
        let outgoing = self.outgoing;
        on_cleanup(move || {
            // Dropping the sender ends the connection's task, which closes the socket.
            outgoing.try_update_value(|tx| tx.take());
        });
    }
}

#[allow(dead_code)]
type Receiver = UnboundedReceiver<ClientFrame>;

/// A page's handler of its connection's events, as it arrives (from a chunk when split).
pub type LoadHandler = Pin<Box<dyn Future<Output = Result<Rc<dyn Fn(Incoming)>, LazyViewError>>>>;

#[cfg(not(feature = "ssr"))]
pub(crate) use browser::run;

#[cfg(not(feature = "ssr"))]
mod browser {
    use super::{Incoming, LiveSocket, LoadHandler, Receiver, Start, Status};
    use crate::live::ledger::{may_reconnect, Backoff, Outbox, Positions, Step};
    use crate::ws::{ClientFrame, Control, ServerFrame};
    use futures::channel::mpsc::{unbounded, UnboundedReceiver};
    use futures::{FutureExt, SinkExt, StreamExt};
    use gloo_net::websocket::{futures::WebSocket, Message, WebSocketError};
    use gloo_timers::future::TimeoutFuture;
    use leptos::prelude::*;
    use std::rc::Rc;

    /// How often the client measures latency and checks that the server still answers.
    const HEARTBEAT_MS: u32 = 10_000;
    /// Silence after which the connection counts as dead.
    const SILENCE_MS: f64 = 25_000.0;

    pub(super) fn start(
        socket: LiveSocket,
        channels: Vec<(String, Start)>,
        rx: Receiver,
        on: LoadHandler,
    ) {
        let (wake_tx, wake_rx) = unbounded::<()>();
        let online = socket.browser_online;
        // After hydration, so the first render matches the server's.
        Effect::new(move |_| online.set(navigator_online()));
        for event in ["online", "offline", "visibilitychange"] {
            let wake_tx = wake_tx.clone();
            let handle = window_event_listener_untyped(event, move |_| {
                let now_online = navigator_online();
                let _ = online.try_set(now_online);
                if now_online && document_visible() {
                    let _ = wake_tx.unbounded_send(());
                }
            });
            on_cleanup(move || handle.remove());
        }
        crate::components::start_part("the live connection", async move {
            let run = match on.await {
                Ok(on) => super::run_socket(socket, channels, rx, wake_rx, on).await,
                Err(e) => Err(e),
            };
            if run.is_err() {
                let _ = socket.status.try_set(Status::Offline);
            }
            run
        });
    }

    fn navigator_online() -> bool {
        web_sys::window()
            .map(|w| w.navigator().on_line())
            .unwrap_or(true)
    }

    fn document_visible() -> bool {
        web_sys::window()
            .and_then(|w| w.document())
            .map(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
            .unwrap_or(true)
    }

    fn now_ms() -> f64 {
        js_sys::Date::now()
    }

    fn ws_url() -> Option<String> {
        let location = web_sys::window()?.location();
        let scheme = if location.protocol().ok()? == "https:" {
            "wss"
        } else {
            "ws"
        };
        Some(format!("{scheme}://{}/ws", location.host().ok()?))
    }

    /// How a connection ended.
    enum End {
        /// The page is gone.
        Stopped,
        /// Closed or lost; `code` when the server closed it.
        Lost { code: Option<u16>, was_up: bool },
    }

    struct Session {
        socket: LiveSocket,
        channels: Vec<String>,
        outbox: Outbox,
        positions: Positions,
        on: Rc<dyn Fn(Incoming)>,
    }

    pub(crate) async fn run(
        socket: LiveSocket,
        channels: Vec<(String, Start)>,
        mut rx: Receiver,
        mut wake: UnboundedReceiver<()>,
        on: Rc<dyn Fn(Incoming)>,
    ) {
        let mut session = Session {
            socket,
            positions: Positions::new(&channels),
            channels: channels.into_iter().map(|(c, _)| c).collect(),
            outbox: Outbox::default(),
            on,
        };
        let mut backoff = Backoff::default();
        loop {
            match connect(&mut session, &mut rx, &mut wake).await {
                End::Stopped => return,
                End::Lost { code, was_up } => {
                    if code.is_some_and(|c| !may_reconnect(c)) {
                        let _ = socket.status.try_set(Status::Offline);
                        return;
                    }
                    if was_up {
                        backoff.reset();
                    }
                }
            }
            if socket.status.try_set(Status::Reconnecting).is_some() {
                return; // disposed: the page is gone
            }
            let delay = backoff.next_delay_ms(js_sys::Math::random());
            let mut sleep = TimeoutFuture::new(delay).fuse();
            loop {
                futures::select! {
                    _ = sleep => break,
                    _ = wake.next() => break,
                    frame = rx.next() => match frame {
                        Some(f) => session.outbox.push(f),
                        None => return,
                    },
                }
            }
        }
    }

    async fn connect(
        session: &mut Session,
        rx: &mut Receiver,
        wake: &mut UnboundedReceiver<()>,
    ) -> End {
        let Some(url) = ws_url() else {
            return End::Stopped;
        };
        let Ok(ws) = WebSocket::open(&url) else {
            return End::Lost {
                code: None,
                was_up: false,
            };
        };
        let (mut write, read) = ws.split();
        let mut read = read.fuse();
        let mut was_up = false;
        let mut last_seen = now_ms();
        for (i, channel) in session.channels.iter().enumerate() {
            let frame = ClientFrame::Subscribe {
                id: format!("s{i}"),
                channel: channel.clone(),
                since: session.positions.since(channel),
            };
            if send(&mut write, &frame).await.is_err() {
                return End::Lost { code: None, was_up };
            }
        }
        loop {
            let mut tick = TimeoutFuture::new(HEARTBEAT_MS).fuse();
            futures::select! {
                message = read.next() => match message {
                    Some(Ok(Message::Text(text))) => {
                        last_seen = now_ms();
                        if session.receive(&text) && !was_up {
                            was_up = true;
                            // Connected: what waited in the outbox goes out, oldest first.
                            for frame in session.outbox.drain() {
                                if send(&mut write, &frame).await.is_err() {
                                    session.outbox.push(frame);
                                    return End::Lost { code: None, was_up };
                                }
                            }
                            heartbeat(&mut write).await;
                        }
                    }
                    Some(Ok(Message::Bytes(_))) => {}
                    Some(Err(WebSocketError::ConnectionClose(ev))) => {
                        return End::Lost { code: Some(ev.code), was_up };
                    }
                    Some(Err(_)) | None => return End::Lost { code: None, was_up },
                },
                frame = rx.next() => match frame {
                    Some(frame) if was_up => {
                        if send(&mut write, &frame).await.is_err() {
                            session.outbox.push(frame);
                            return End::Lost { code: None, was_up };
                        }
                    }
                    Some(frame) => session.outbox.push(frame),
                    None => {
                        let _ = write.close().await;
                        return End::Stopped;
                    }
                },
                _ = tick => {
                    if now_ms() - last_seen > SILENCE_MS {
                        let _ = write.close().await;
                        return End::Lost { code: None, was_up };
                    }
                    heartbeat(&mut write).await;
                }
                _ = wake.next() => heartbeat(&mut write).await,
            }
        }
    }

    async fn send<S>(write: &mut S, frame: &ClientFrame) -> Result<(), WebSocketError>
    where
        S: futures::Sink<Message, Error = WebSocketError> + Unpin,
    {
        let text = serde_json::to_string(frame).unwrap_or_default();
        write.send(Message::Text(text)).await
    }

    async fn heartbeat<S>(write: &mut S)
    where
        S: futures::Sink<Message, Error = WebSocketError> + Unpin,
    {
        let _ = send(write, &ClientFrame::Heartbeat { t: now_ms() }).await;
    }

    impl Session {
        /// Handles one frame; true once the connection is up (`connected` received).
        fn receive(&mut self, text: &str) -> bool {
            let _ = self.socket.last_message_ms.try_set(Some(now_ms()));
            let Ok(frame) = ServerFrame::parse(text) else {
                leptos::logging::warn!("hearth: unreadable frame from the server");
                return false;
            };
            match frame {
                ServerFrame::Control(Control::Connected { .. }) => {
                    let _ = self.socket.status.try_set(Status::Connected);
                    (self.on)(Incoming::Connected);
                    return true;
                }
                ServerFrame::Control(c @ Control::Subscribed { .. }) => {
                    if self.positions.subscribed(&c) == Step::Reload {
                        (self.on)(Incoming::Reload);
                    }
                }
                ServerFrame::Control(Control::Ack { id, offset }) => {
                    (self.on)(Incoming::Ack { id, offset })
                }
                ServerFrame::Control(Control::Heartbeat { t, .. }) => {
                    let rtt = (now_ms() - t).max(0.0).round() as u32;
                    let _ = self.socket.latency_ms.try_set(Some(rtt));
                    crate::vitals::note_ws_latency(f64::from(rtt));
                }
                ServerFrame::Control(Control::Error { code, message, .. }) => {
                    leptos::logging::warn!("hearth: server said {code}: {message}");
                }
                ServerFrame::Control(Control::Unsubscribed { .. }) => {}
                ServerFrame::Event(event) => match self.positions.event(&event) {
                    Step::Apply => (self.on)(Incoming::Event(event)),
                    Step::Duplicate => {}
                    Step::Reload => (self.on)(Incoming::Reload),
                },
            }
            self.socket.status.get_untracked() == Status::Connected
        }
    }
}

/// The live connection's loop (`run`), from its chunk; `Err` when the chunk did not
/// arrive.
#[cfg(not(feature = "ssr"))]
#[cfg_attr(feature = "split", leptos::lazy(live_socket, fallible))]
pub(crate) async fn run_socket(
    socket: LiveSocket,
    channels: Vec<(String, crate::live::ledger::Start)>,
    rx: futures::channel::mpsc::UnboundedReceiver<crate::ws::ClientFrame>,
    wake: futures::channel::mpsc::UnboundedReceiver<()>,
    on: std::rc::Rc<dyn Fn(Incoming)>,
) -> Result<(), LazyViewError> {
    run(socket, channels, rx, wake, on).await;
    Ok(())
}
