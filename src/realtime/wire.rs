//! A WebSocket connection's outgoing side, the way uWebSockets and Centrifugo's fast path do
//! it: whoever sends a frame writes it to the socket at once, from its own task. The hub's
//! fan-out encodes a frame once and writes the same bytes to every subscriber's socket, all
//! in one io_uring submission where the kernel offers it ([`send_each`]): no task is woken,
//! nothing is copied and no system call is made per delivery. Only what the kernel does not
//! take at once (its send buffer is full: the client reads slower than it is sent to) waits
//! in the connection's bounded queue, which the connection's writer task drains as the
//! socket becomes writable; while anything waits, later frames queue behind it, so the order
//! holds. More than [`QUEUE_BYTES`] waiting and the client is too slow to keep up.

use bytes::{Buf, Bytes};
use std::collections::VecDeque;
use std::io;
use std::os::fd::AsFd;
use std::sync::{Arc, Mutex};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{CloseFrame, Frame};

/// Bytes a connection may have waiting (besides the kernel's send buffer) before it counts as
/// too slow: a recovery's replay of the whole history fits.
pub const QUEUE_BYTES: usize = 1 << 20;

/// Why a frame was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The queue is full: the client is too slow.
    Full,
    /// The connection is closing or its socket failed: nothing more goes out.
    Shut,
}

#[derive(Default)]
struct Queue {
    /// Frames the kernel has not taken yet, in order; the first may be the rest of one.
    chunks: VecDeque<Bytes>,
    bytes: usize,
    /// The first chunk is the rest of a frame partly written.
    partial: bool,
    /// No more frames are taken (the close frame is queued, or the socket failed).
    shut: bool,
    failed: bool,
}

impl Queue {
    fn push(&mut self, chunk: Bytes) {
        self.bytes += chunk.len();
        self.chunks.push_back(chunk);
    }

    /// Decides a frame without writing it: refused when shut, queued behind frames waiting
    /// (refused when that makes the queue too long); `None` when it is to be written now.
    fn admit(&mut self, frame: &Bytes) -> Option<Result<(), Refused>> {
        if self.shut {
            return Some(Err(Refused::Shut));
        }
        if self.chunks.is_empty() {
            return None;
        }
        if self.bytes + frame.len() > QUEUE_BYTES {
            return Some(Err(Refused::Full));
        }
        self.push(frame.clone());
        Some(Ok(()))
    }

    /// Takes the outcome of writing `frame` to the socket at once: what the kernel did not
    /// take waits; a failed socket shuts the wire. Says whether the writer task must be woken.
    fn settle(&mut self, frame: &Bytes, written: io::Result<usize>) -> (Result<(), Refused>, bool) {
        match written {
            Ok(n) if n == frame.len() => return (Ok(()), false),
            Ok(n) => {
                self.partial = n > 0;
                self.push(frame.slice(n..));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.push(frame.clone()),
            Err(_) => {
                self.shut = true;
                self.failed = true;
                return (Err(Refused::Shut), true);
            }
        }
        (Ok(()), true)
    }

    /// The kernel took `n` bytes from the front.
    fn consume(&mut self, mut n: usize) {
        self.bytes -= n;
        while n > 0 {
            let Some(head) = self.chunks.front_mut() else {
                return;
            };
            if head.len() <= n {
                n -= head.len();
                self.chunks.pop_front();
                self.partial = false;
            } else {
                head.advance(n);
                self.partial = true;
                n = 0;
            }
        }
        if self.chunks.is_empty() && self.chunks.capacity() > 16 {
            self.chunks.shrink_to(4);
        }
    }
}

/// The outgoing side of one WebSocket connection.
pub struct Wire {
    tcp: Arc<TcpStream>,
    queue: Mutex<Queue>,
    /// Wakes the writer task when something was queued (or the wire shut).
    ready: Notify,
}

/// How far a write of the queue got.
enum Drained {
    Empty,
    Blocked,
}

impl Wire {
    pub fn new(tcp: Arc<TcpStream>) -> Self {
        Wire {
            tcp,
            queue: Mutex::new(Queue::default()),
            ready: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends one encoded frame: written at once when nothing waits and the kernel takes it,
    /// queued otherwise.
    pub fn send(&self, frame: &Bytes) -> Result<(), Refused> {
        let mut q = self.lock();
        if let Some(decided) = q.admit(frame) {
            return decided;
        }
        let (result, wake) = q.settle(frame, self.tcp.try_write(frame));
        drop(q);
        if wake {
            self.ready.notify_one();
        }
        result
    }

    /// Queues the close frame as the last one. Whole frames still waiting are dropped (the
    /// client is told to go, and recovers them when it comes back); the rest of a frame
    /// partly written is kept, or the stream would be corrupt.
    pub fn close(&self, code: u16, reason: &str) {
        let mut q = self.lock();
        if q.shut {
            return;
        }
        let keep = usize::from(q.partial);
        while q.chunks.len() > keep {
            if let Some(c) = q.chunks.pop_back() {
                q.bytes -= c.len();
            }
        }
        q.push(close_frame(code, reason));
        q.shut = true;
        drop(q);
        self.ready.notify_one();
    }

    /// Writes what is queued until the kernel stops taking it.
    fn write_queued(&self) -> io::Result<Drained> {
        let mut q = self.lock();
        loop {
            if q.failed {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            if q.chunks.is_empty() {
                return Ok(Drained::Empty);
            }
            let slices: Vec<io::IoSlice<'_>> = q
                .chunks
                .iter()
                .take(64)
                .map(|c| io::IoSlice::new(c))
                .collect();
            match self.tcp.try_write_vectored(&slices) {
                Ok(n) => q.consume(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Drained::Blocked),
                Err(e) => {
                    q.shut = true;
                    q.failed = true;
                    return Err(e);
                }
            }
        }
    }

    /// The writer task's loop: writes queued frames whenever there are some and the socket
    /// takes them. Returns only when the socket failed.
    pub async fn drain(&self) -> io::Result<()> {
        loop {
            let ready = self.ready.notified();
            tokio::pin!(ready);
            ready.as_mut().enable();
            match self.write_queued()? {
                Drained::Empty => ready.await,
                Drained::Blocked => self.tcp.writable().await?,
            }
        }
    }

    /// Writes what is queued, then returns (after a close: the close frame is out).
    pub async fn flush(&self) -> io::Result<()> {
        loop {
            match self.write_queued()? {
                Drained::Empty => return Ok(()),
                Drained::Blocked => self.tcp.writable().await?,
            }
        }
    }

    /// Bytes waiting for the kernel.
    pub fn queued(&self) -> usize {
        self.lock().bytes
    }
}

/// Sends one encoded frame to each of `wires`, as [`Wire::send`] would to each in turn, and
/// appends each one's result to `out`. The writes for wires with nothing waiting go to the
/// kernel together (one io_uring submission for up to 256 sockets, see the `batch-send`
/// crate), or one by one where io_uring is not available. Every wire's lock is held until
/// its frame is settled, so nothing else writes between its check and its write; the wires
/// must therefore be distinct (the hub's subscribers of a channel are, one per connection).
pub fn send_each(wires: &[&Wire], frame: &Bytes, out: &mut Vec<Result<(), Refused>>) {
    let mut queues: Vec<_> = wires.iter().map(|w| w.lock()).collect();
    let start = out.len();
    let mut direct = Vec::with_capacity(wires.len());
    for (i, q) in queues.iter_mut().enumerate() {
        match q.admit(frame) {
            Some(decided) => out.push(decided),
            None => {
                direct.push(i);
                out.push(Ok(()));
            }
        }
    }
    let sockets: Vec<_> = direct.iter().map(|&i| wires[i].tcp.as_fd()).collect();
    let mut written = Vec::with_capacity(direct.len());
    if !batch_send::send_each(&sockets, frame, &mut written) {
        written.extend(direct.iter().map(|&i| wires[i].tcp.try_write(frame)));
    }
    let mut wake = Vec::new();
    for (&i, w) in direct.iter().zip(written) {
        let (result, woken) = queues[i].settle(frame, w);
        out[start + i] = result;
        if woken {
            wake.push(i);
        }
    }
    drop(queues);
    for i in wake {
        wires[i].ready.notify_one();
    }
}

fn encode(frame: Frame) -> Bytes {
    let mut out = Vec::with_capacity(frame.len());
    // Writing into a Vec cannot fail.
    let _ = frame.format(&mut out);
    Bytes::from(out)
}

/// A text frame as a server sends it (unmasked), encoded once for any number of sockets.
pub fn text_frame(text: &str) -> Bytes {
    encode(Frame::message(
        Bytes::copy_from_slice(text.as_bytes()),
        OpCode::Data(Data::Text),
        true,
    ))
}

/// An empty ping (the heartbeat).
pub fn ping_frame() -> Bytes {
    encode(Frame::ping(Bytes::new()))
}

pub fn close_frame(code: u16, reason: &str) -> Bytes {
    encode(Frame::close(Some(CloseFrame {
        code: code.into(),
        reason: reason.to_string().into(),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::protocol::Role;
    use tokio_tungstenite::tungstenite::Message;

    /// A wire on one end of a loopback connection and a WebSocket client on the other.
    async fn pair() -> (
        Arc<Wire>,
        tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    ) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        server.writable().await.unwrap();
        let client =
            tokio_tungstenite::WebSocketStream::from_raw_socket(client, Role::Client, None).await;
        (Arc::new(Wire::new(Arc::new(server))), client)
    }

    async fn text(client: &mut tokio_tungstenite::WebSocketStream<TcpStream>) -> String {
        match client.next().await.unwrap().unwrap() {
            Message::Text(t) => t.to_string(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn frames_are_encoded_as_rfc_6455_says() {
        assert_eq!(&text_frame("hi")[..], &[0x81, 2, b'h', b'i']);
        let long = text_frame(&"x".repeat(300));
        assert_eq!(&long[..4], &[0x81, 126, 1, 44]);
        assert_eq!(long.len(), 304);
        assert_eq!(&ping_frame()[..], &[0x89, 0]);
        assert_eq!(&close_frame(4008, "")[..], &[0x88, 2, 0x0f, 0xa8]);
    }

    #[tokio::test]
    async fn frames_written_at_once_arrive_in_order() {
        let (wire, mut client) = pair().await;
        for i in 0..100 {
            wire.send(&text_frame(&format!("m{i}"))).unwrap();
        }
        for i in 0..100 {
            assert_eq!(text(&mut client).await, format!("m{i}"));
        }
        assert_eq!(wire.queued(), 0);
    }

    #[tokio::test]
    async fn what_the_kernel_does_not_take_waits_and_goes_out_in_order() {
        let (wire, mut client) = pair().await;
        let writer = {
            let wire = wire.clone();
            tokio::spawn(async move { wire.drain().await })
        };
        // The client reads nothing until the kernel's buffers are full and frames queue.
        let big = "y".repeat(16 * 1024);
        let mut sent = 0;
        while wire.queued() == 0 {
            wire.send(&text_frame(&format!("{sent} {big}"))).unwrap();
            sent += 1;
        }
        for _ in 0..5 {
            wire.send(&text_frame(&format!("{sent} {big}"))).unwrap();
            sent += 1;
        }
        for i in 0..sent {
            let t = text(&mut client).await;
            assert_eq!(t.split(' ').next(), Some(i.to_string().as_str()));
        }
        assert_eq!(wire.queued(), 0);
        writer.abort();
    }

    #[tokio::test]
    async fn a_frame_sent_to_each_wire_goes_out_at_once_or_behind_what_waits() {
        let (idle, mut idle_client) = pair().await;
        let (busy, mut busy_client) = pair().await;
        let (closed, _closed_client) = pair().await;
        // The busy wire's client reads nothing until frames wait in its queue.
        let big = "b".repeat(16 * 1024);
        let mut waiting = 0;
        while busy.queued() == 0 {
            busy.send(&text_frame(&format!("{waiting} {big}"))).unwrap();
            waiting += 1;
        }
        closed.close(1000, "");
        let mut out = vec![Err(Refused::Full)];
        for i in 0..3 {
            send_each(
                &[&*idle, &*busy, &*closed],
                &text_frame(&format!("{} each {i}", waiting + i)),
                &mut out,
            );
        }
        assert_eq!(out.remove(0), Err(Refused::Full), "what was in `out` stays");
        let expected: Vec<_> = (0..3)
            .flat_map(|_| [Ok(()), Ok(()), Err(Refused::Shut)])
            .collect();
        assert_eq!(out, expected);
        assert_eq!(idle.queued(), 0, "nothing waited: written at once");
        let writer = {
            let busy = busy.clone();
            tokio::spawn(async move { busy.drain().await })
        };
        for i in 0..3 {
            assert_eq!(
                text(&mut idle_client).await,
                format!("{} each {i}", waiting + i)
            );
        }
        for i in 0..waiting + 3 {
            let t = text(&mut busy_client).await;
            assert_eq!(t.split(' ').next(), Some(i.to_string().as_str()));
        }
        writer.abort();
    }

    #[tokio::test]
    async fn a_full_queue_refuses_and_a_close_keeps_the_stream_whole() {
        let (wire, mut client) = pair().await;
        let big = "z".repeat(60 * 1024);
        let refused = loop {
            match wire.send(&text_frame(&big)) {
                Ok(()) => {}
                Err(e) => break e,
            }
        };
        assert_eq!(refused, Refused::Full);
        assert!(wire.queued() <= QUEUE_BYTES);
        wire.close(4008, "too slow to keep up");
        assert_eq!(wire.send(&text_frame("late")), Err(Refused::Shut));
        let flushing = {
            let wire = wire.clone();
            tokio::spawn(async move { wire.flush().await })
        };
        // Whatever frames made it out are whole, then the close frame.
        loop {
            match client.next().await.unwrap().unwrap() {
                Message::Text(t) => assert_eq!(t.len(), big.len()),
                Message::Close(Some(c)) => {
                    assert_eq!(u16::from(c.code), 4008);
                    break;
                }
                other => panic!("{other:?}"),
            }
        }
        flushing.await.unwrap().unwrap();
    }
}
