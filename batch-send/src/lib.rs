//! Sends one buffer to many non-blocking sockets with one entry into the kernel: the fan-out
//! of a WebSocket frame to a channel's subscribers (Hearth's `realtime::wire`).
//!
//! Each send is what `send(2)` with `MSG_DONTWAIT` does on its socket (the kernel takes all
//! of the buffer, part of it, or nothing and says `EAGAIN`); io_uring only saves the system
//! call per socket: the entry and exit, and the descriptor lookup. Each thread has its own
//! ring, made on first use. Where io_uring cannot be used (an old kernel, a seccomp filter
//! that refuses it), [`send_each`] says so and the caller writes to each socket in turn.

use io_uring::{opcode, types, IoUring};
use std::cell::RefCell;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, Ordering};

/// Sends submitted at once; larger batches go in several submissions.
const ENTRIES: usize = 256;

/// Set once a ring could not be made or used: every later call falls back at once.
static UNAVAILABLE: AtomicBool = AtomicBool::new(false);

thread_local! {
    static RING: RefCell<Option<IoUring>> = const { RefCell::new(None) };
}

/// Sends `bytes` to each of `sockets` without blocking. Appends to `out` one result per
/// socket, in order: the number of bytes the kernel took, or the error of that send
/// (`WouldBlock` when its send buffer had no room). Returns `false`, with `out` untouched,
/// when io_uring cannot be used on this machine.
pub fn send_each(
    sockets: &[BorrowedFd<'_>],
    bytes: &[u8],
    out: &mut Vec<io::Result<usize>>,
) -> bool {
    if sockets.is_empty() {
        return true;
    }
    let Ok(len) = u32::try_from(bytes.len()) else {
        return false;
    };
    if UNAVAILABLE.load(Ordering::Relaxed) {
        return false;
    }
    RING.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            match working_ring() {
                Some(ring) => *slot = Some(ring),
                None => {
                    UNAVAILABLE.store(true, Ordering::Relaxed);
                    return false;
                }
            }
        }
        let Some(ring) = slot.as_mut() else {
            return false;
        };
        let start = out.len();
        out.extend(sockets.iter().map(|_| Ok(0)));
        for (c, chunk) in sockets.chunks(ENTRIES).enumerate() {
            for (j, socket) in chunk.iter().enumerate() {
                let entry = opcode::Send::new(types::Fd(socket.as_raw_fd()), bytes.as_ptr(), len)
                    .flags(libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL)
                    .build()
                    .user_data((c * ENTRIES + j) as u64);
                // SAFETY: the kernel reads `bytes` and uses the descriptor only while the entry
                // is in flight, and this function returns only after every entry it submitted
                // has completed (`complete` waits for all of them, or aborts the process), so
                // both borrows outlive the kernel's use. The ring has room: it holds `ENTRIES`
                // and is empty at the start of each chunk.
                let pushed = unsafe { ring.submission().push(&entry) };
                if pushed.is_err() {
                    abort("the submission queue is full at the start of a chunk");
                }
            }
            complete(ring, chunk.len(), &mut out[start..]);
        }
        true
    })
}

/// A ring that has completed one entry, or `None` when this kernel does not offer io_uring.
fn working_ring() -> Option<IoUring> {
    let mut ring = IoUring::new(ENTRIES as u32).ok()?;
    let nop = opcode::Nop::new().build().user_data(0);
    // SAFETY: a no-op holds no buffer or descriptor; the ring is new and empty.
    unsafe { ring.submission().push(&nop) }.ok()?;
    ring.submit_and_wait(1).ok()?;
    let done = ring.completion().count();
    (done == 1).then_some(ring)
}

/// Submits what is queued and waits until `n` entries have completed, filling in `results`
/// by each entry's user data.
fn complete(ring: &mut IoUring, n: usize, results: &mut [io::Result<usize>]) {
    let mut reaped = 0;
    while reaped < n {
        if let Err(e) = ring.submit_and_wait(n - reaped) {
            if !matches!(
                e.raw_os_error(),
                Some(libc::EINTR | libc::EAGAIN | libc::EBUSY)
            ) {
                // Entries may still be in flight: returning would free what they borrow.
                abort(&format!(
                    "io_uring_enter failed with entries in flight: {e}"
                ));
            }
        }
        for cqe in ring.completion() {
            let result = cqe.result();
            let slot = &mut results[cqe.user_data() as usize];
            *slot = if result >= 0 {
                Ok(result as usize)
            } else {
                Err(io::Error::from_raw_os_error(-result))
            };
            reaped += 1;
        }
    }
}

fn abort(why: &str) -> ! {
    eprintln!("batch-send: {why}");
    std::process::abort()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsFd;

    /// `n` connected loopback pairs: the sending ends (non-blocking) and the receiving ends.
    fn pairs(n: usize) -> (Vec<TcpStream>, Vec<TcpStream>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        (0..n)
            .map(|_| {
                let receiver = TcpStream::connect(addr).unwrap();
                let (sender, _) = listener.accept().unwrap();
                sender.set_nonblocking(true).unwrap();
                (sender, receiver)
            })
            .unzip()
    }

    fn send(senders: &[TcpStream], bytes: &[u8]) -> Vec<io::Result<usize>> {
        let fds: Vec<_> = senders.iter().map(|s| s.as_fd()).collect();
        let mut out = vec![Ok(7)];
        assert!(
            send_each(&fds, bytes, &mut out),
            "io_uring is not available"
        );
        assert_eq!(out.remove(0).unwrap(), 7, "what was in `out` stays");
        out
    }

    #[test]
    fn every_socket_of_more_than_one_submission_gets_the_bytes_in_order() {
        let (senders, receivers) = pairs(ENTRIES * 2 + 3);
        for round in 0..3u8 {
            let results = send(&senders, &[round; 40]);
            assert_eq!(results.len(), senders.len());
            assert!(results.iter().all(|r| matches!(r, Ok(40))));
        }
        for mut receiver in receivers {
            let mut got = [0u8; 120];
            receiver.read_exact(&mut got).unwrap();
            assert!(got[..40].iter().all(|&b| b == 0));
            assert!(got[40..80].iter().all(|&b| b == 1));
            assert!(got[80..].iter().all(|&b| b == 2));
        }
    }

    #[test]
    fn a_full_socket_takes_part_or_nothing_and_the_others_everything() {
        let (senders, _receivers) = pairs(2);
        let big = vec![9u8; 64 * 1024];
        // The first receiver reads nothing: its sender's buffers fill up.
        let mut full = false;
        for _ in 0..10_000 {
            match &send(&senders[..1], &big)[0] {
                Ok(n) if *n == big.len() => continue,
                Ok(_) => {}
                Err(e) => assert_eq!(e.kind(), io::ErrorKind::WouldBlock),
            }
            full = true;
            break;
        }
        assert!(full, "the kernel took everything");
        let results = send(&senders, b"hello");
        assert!(matches!(&results[0], Err(e) if e.kind() == io::ErrorKind::WouldBlock));
        assert!(matches!(results[1], Ok(5)));
    }

    #[test]
    fn a_socket_whose_peer_is_gone_reports_its_error_and_the_others_go_on() {
        let (senders, mut receivers) = pairs(2);
        drop(receivers.remove(0));
        // The first sends after the peer's close are still taken; the reset follows.
        let mut sent = 0;
        loop {
            let results = send(&senders, b"x");
            assert!(matches!(results[1], Ok(1)));
            sent += 1;
            if results[0].is_err() {
                break;
            }
            assert!(sent < 100, "sending to a closed peer never failed");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let mut got = vec![0u8; sent];
        receivers[0].read_exact(&mut got).unwrap();
        assert!(got.iter().all(|&b| b == b'x'));
    }
}
