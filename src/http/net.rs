//! The listener behind `axum::serve`. Each accepted TCP stream is shared (`Arc`): hyper reads
//! and writes HTTP through one handle, and a connection upgraded to a WebSocket keeps
//! another, so the hub can write frames straight to the socket from the task that fans them
//! out (see `realtime::wire`) while hyper's upgraded stream goes on reading.

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

/// Most a single read hands to hyper. A read fills only memory that is initialised first
/// (`ReadBuf::initialize_unfilled_to`); a request line and its headers fit in one read.
const READ_CHUNK: usize = 4096;

/// Accepts TCP connections for `axum::serve` (as axum's own `TcpListener` does: connection
/// errors are retried at once, others after a pause).
pub struct Listener(pub tokio::net::TcpListener);

impl axum::serve::Listener for Listener {
    type Io = SharedTcp;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (SharedTcp, SocketAddr) {
        loop {
            match self.0.accept().await {
                Ok((stream, addr)) => return (SharedTcp(Arc::new(stream)), addr),
                Err(e) if is_connection_error(&e) => {}
                Err(e) => {
                    // Out of file descriptors, most likely: wait for some to be closed.
                    tracing::error!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// What a request knows of its connection (`ConnectInfo<Remote>`): the peer's address and
/// the stream itself, for the WebSocket upgrade.
#[derive(Clone)]
pub struct Remote {
    pub addr: SocketAddr,
    pub tcp: Arc<TcpStream>,
}

/// The browser's address: the `peer`'s, or, when the peer is one of the `trusted` reverse
/// proxies (`TRUSTED_PROXIES`), the nearest address in `X-Forwarded-For` that is not one of
/// them (each proxy appends the address it was reached from; what a client wrote itself comes
/// first and is not believed).
pub fn client_ip(peer: IpAddr, headers: &http::HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|a| a.trim().parse::<IpAddr>())
        .collect::<Vec<_>>();
    let mut nearest = peer;
    for address in forwarded.into_iter().rev() {
        match address {
            Ok(ip) if trusted.contains(&ip) => nearest = ip,
            Ok(ip) => return ip,
            // A mangled entry: nothing before it can be believed.
            Err(_) => return nearest,
        }
    }
    nearest
}

impl Connected<IncomingStream<'_, Listener>> for Remote {
    fn connect_info(stream: IncomingStream<'_, Listener>) -> Self {
        Remote {
            addr: *stream.remote_addr(),
            tcp: stream.io().0.clone(),
        }
    }
}

/// A TCP stream that several owners can read and write (through `&TcpStream`).
pub struct SharedTcp(pub Arc<TcpStream>);

impl AsyncRead for SharedTcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            ready!(self.0.poll_read_ready(cx))?;
            let room = buf.remaining().min(READ_CHUNK);
            let dst = buf.initialize_unfilled_to(room);
            // A read shorter than asked for drained the socket: its readiness is cleared
            // (by answering `WouldBlock` to `try_io` once the bytes are in), as tokio's own
            // `TcpStream` does, so the next poll waits for data instead of paying for a read
            // that can only answer EAGAIN (one system call per keep-alive request).
            let mut got = None;
            let read = self.0.try_io(Interest::READABLE, || {
                let n = self.0.try_read(dst)?;
                got = Some(n);
                if n > 0 && n < room {
                    Err(io::ErrorKind::WouldBlock.into())
                } else {
                    Ok(n)
                }
            });
            if let Some(n) = got {
                buf.advance(n);
                return Poll::Ready(Ok(()));
            }
            match read {
                Err(e) if e.kind() != io::ErrorKind::WouldBlock => return Poll::Ready(Err(e)),
                // Not readable after all: wait for the next readiness.
                _ => {}
            }
        }
    }
}

impl SharedTcp {
    /// Waits until the socket is writable and `write` gets through (hyper's writes).
    fn poll_write_with(
        &self,
        cx: &mut Context<'_>,
        write: impl Fn(&TcpStream) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.0.poll_write_ready(cx))?;
            match write(&self.0) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                done => return Poll::Ready(done),
            }
        }
    }
}

impl AsyncWrite for SharedTcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |tcp| tcp.try_write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |tcp| tcp.try_write_vectored(bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A peer that is already gone makes this fail: nothing is left to shut down then.
        let _ = socket2::SockRef::from(&*self.0).shutdown(std::net::Shutdown::Write);
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn reads_and_writes_through_either_handle() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(addr).await.unwrap();
        let mut served = Listener(listener);
        let (mut shared, _) = axum::serve::Listener::accept(&mut served).await;
        let other = shared.0.clone();

        client.write_all(b"hello").await.unwrap();
        let mut got = [0u8; 5];
        shared.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"hello");

        // The short read cleared the readiness: the next read waits, then gets what comes.
        let mut more = [0u8; 3];
        let waiting = tokio::time::timeout(Duration::from_millis(50), shared.read(&mut more));
        assert!(waiting.await.is_err(), "nothing to read yet");
        client.write_all(b"abc").await.unwrap();
        shared.read_exact(&mut more).await.unwrap();
        assert_eq!(&more, b"abc");

        shared.write_all(b"one ").await.unwrap();
        other.writable().await.unwrap();
        assert_eq!(other.try_write(b"two").unwrap(), 3);
        shared.shutdown().await.unwrap();
        let mut all = Vec::new();
        client.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, b"one two");
    }

    #[test]
    fn the_client_address_is_believed_only_from_trusted_proxies() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let proxy = ip("127.0.0.1");
        let with = |xff: &str| {
            let mut h = http::HeaderMap::new();
            h.insert("x-forwarded-for", xff.parse().unwrap());
            h
        };
        let trusted = [proxy, ip("10.0.0.2")];
        // Straight from a browser: its own address, whatever it claims.
        assert_eq!(
            client_ip(ip("203.0.113.9"), &with("198.51.100.1"), &trusted),
            ip("203.0.113.9")
        );
        // Through the proxy: the address it saw, not what the client wrote before it.
        assert_eq!(
            client_ip(proxy, &with("1.2.3.4, 203.0.113.9"), &trusted),
            ip("203.0.113.9")
        );
        // Through two trusted proxies.
        assert_eq!(
            client_ip(proxy, &with("203.0.113.9, 10.0.0.2"), &trusted),
            ip("203.0.113.9")
        );
        // No header, or a mangled one: the nearest trusted hop.
        assert_eq!(client_ip(proxy, &http::HeaderMap::new(), &trusted), proxy);
        assert_eq!(
            client_ip(proxy, &with("203.0.113.9, junk, 10.0.0.2"), &trusted),
            ip("10.0.0.2")
        );
        // Nothing trusted (the default): the peer.
        assert_eq!(client_ip(proxy, &with("203.0.113.9"), &[]), proxy);
    }
}
