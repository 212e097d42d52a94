//! Any text as a client's WebSocket frame: a frame of the protocol, or the `error` frame's
//! code for it (`malformed`, `bad_frame`, `unknown_type`) — never a panic. Channel names are
//! parsed or refused the same way.
#![no_main]

use hearth::http::socket::read_frame;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err((code, message)) = read_frame(text) {
        assert!(
            matches!(code, "malformed" | "bad_frame" | "unknown_type"),
            "{code}: {message}"
        );
        assert!(!message.is_empty());
    }
    if let Some(channel) = app::ws::Channel::parse(text) {
        assert_eq!(app::ws::Channel::parse(&channel.name()), Some(channel));
    }
});
