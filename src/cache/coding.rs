//! Content codings of cached answers. A cached body is kept in each coding browsers ask for
//! (brotli and gzip beside the identity bytes), compressed once when the entry is made, and
//! carried into Redis as it is; a hit picks the representation the request's
//! `Accept-Encoding` prefers (RFC 9110 §12.5.3) and sends its bytes without compressing
//! anything. Each representation has its own strong ETag (RFC 9110 §8.8.3: a different
//! content coding is a different representation), so `If-None-Match` works for each.
//!
//! Compression is paid once per entry, in two steps (BENCHMARKS.md, "Compressed entries"):
//! an entry is made with brotli's quality 4 ([`Level::Fast`]: tens to hundreds of
//! microseconds, what a miss can afford), and then, when a background worker is free, made
//! again at quality 11 ([`Level::Small`]: 10–17 % smaller, but 2–60 ms in this brotli) and
//! swapped in (`super::Shrinker`). gzip stays at level 6: level 9 saved under 0.2 %. A
//! window fitted to the body keeps brotli's tables small.

use axum::body::Bytes;
use axum::http::HeaderValue;
use std::io::Write as _;

/// How hard brotli works: fast when an entry is made, for size when there is time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Fast,
    Small,
}

impl Level {
    fn brotli_quality(self) -> u32 {
        match self {
            Level::Fast => 4,
            Level::Small => 11,
        }
    }
}

/// A content coding Hearth answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Coding {
    Identity,
    Br,
    Gzip,
}

impl Coding {
    /// `Content-Encoding` (none for identity).
    pub fn header(self) -> Option<HeaderValue> {
        match self {
            Coding::Identity => None,
            Coding::Br => Some(HeaderValue::from_static("br")),
            Coding::Gzip => Some(HeaderValue::from_static("gzip")),
        }
    }

    /// Appended to a representation's ETag: other bytes, another strong validator.
    fn etag_suffix(self, level: Level) -> &'static str {
        match (self, level) {
            (Coding::Identity, _) => "",
            (Coding::Br, Level::Fast) => "-br4",
            (Coding::Br, Level::Small) => "-br11",
            (Coding::Gzip, _) => "-gz",
        }
    }

    /// Compresses `body` in this coding.
    pub fn encode(self, body: &[u8], level: Level) -> Bytes {
        match self {
            Coding::Identity => Bytes::copy_from_slice(body),
            Coding::Br => {
                // A window no larger than the body (at least brotli's minimum, 2^10) keeps the
                // encoder's tables small for the small bodies most entries are.
                let lgwin = (usize::BITS - body.len().max(1).leading_zeros()).clamp(10, 22);
                let mut out = Vec::with_capacity(body.len() / 3 + 64);
                {
                    let mut writer = brotli::CompressorWriter::new(
                        &mut out,
                        4096,
                        level.brotli_quality(),
                        lgwin,
                    );
                    let _ = writer.write_all(body);
                }
                out.into()
            }
            Coding::Gzip => {
                let mut writer = flate2::write::GzEncoder::new(
                    Vec::with_capacity(body.len() / 3 + 64),
                    flate2::Compression::default(),
                );
                let _ = writer.write_all(body);
                writer.finish().unwrap_or_default().into()
            }
        }
    }
}

/// One representation of a cached body: its bytes and its validator.
#[derive(Clone, Debug, PartialEq)]
pub struct Encoded {
    pub body: Bytes,
    pub etag: HeaderValue,
}

impl Encoded {
    /// The representation of `body` (identity bytes) in `coding`.
    pub fn of(body: &[u8], identity_etag: &HeaderValue, coding: Coding, level: Level) -> Self {
        Self::with(coding.encode(body, level), identity_etag, coding, level)
    }

    /// Bytes already in `coding` (read back from Redis), with the validator that goes with
    /// them.
    pub fn with(body: Bytes, identity_etag: &HeaderValue, coding: Coding, level: Level) -> Self {
        Self {
            body,
            etag: etag_for(identity_etag, coding, level),
        }
    }
}

/// The identity validator `"…"` with the coding's suffix inside the quotes.
pub fn etag_for(identity: &HeaderValue, coding: Coding, level: Level) -> HeaderValue {
    let suffix = coding.etag_suffix(level);
    if suffix.is_empty() {
        return identity.clone();
    }
    let tag = identity.as_bytes();
    let inner = tag
        .strip_prefix(b"\"")
        .and_then(|t| t.strip_suffix(b"\""))
        .unwrap_or(tag);
    let mut out = Vec::with_capacity(inner.len() + suffix.len() + 2);
    out.push(b'"');
    out.extend_from_slice(inner);
    out.extend_from_slice(suffix.as_bytes());
    out.push(b'"');
    HeaderValue::from_bytes(&out).unwrap_or_else(|_| identity.clone())
}

/// How much a request accepts each coding: a q-value in thousandths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accepted {
    br: u16,
    gzip: u16,
    identity: u16,
}

impl Accepted {
    /// Reads `Accept-Encoding` (RFC 9110 §12.5.3). Without the header any coding is
    /// acceptable but none is asked for: identity. Codings not listed take `*`'s weight;
    /// identity, unless excluded by `identity;q=0` or by `*;q=0`, is always acceptable, after
    /// every coding the request lists.
    /// `x-gzip` is gzip. An element with an unreadable weight is ignored.
    pub fn parse(header: Option<&HeaderValue>) -> Self {
        let Some(text) = header.and_then(|v| v.to_str().ok()) else {
            return Self {
                br: 0,
                gzip: 0,
                identity: 1000,
            };
        };
        let (mut br, mut gzip, mut identity, mut any) = (None, None, None, None);
        for element in text.split(',') {
            let mut parts = element.split(';');
            let name = parts.next().unwrap_or("").trim();
            if name.is_empty() {
                continue;
            }
            let mut weight = Some(1000);
            for param in parts {
                if let Some((k, v)) = param.split_once('=') {
                    if k.trim().eq_ignore_ascii_case("q") {
                        weight = qvalue(v.trim());
                    }
                }
            }
            let Some(weight) = weight else { continue };
            let slot = if name.eq_ignore_ascii_case("br") {
                &mut br
            } else if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                &mut gzip
            } else if name.eq_ignore_ascii_case("identity") {
                &mut identity
            } else if name == "*" {
                &mut any
            } else {
                continue;
            };
            *slot = Some(weight);
        }
        Self {
            br: br.or(any).unwrap_or(0),
            gzip: gzip.or(any).unwrap_or(0),
            // Acceptable unless excluded, but preferred after anything the client listed.
            identity: identity.or(any).unwrap_or(1),
        }
    }

    fn weight(&self, coding: Coding) -> u16 {
        match coding {
            Coding::Identity => self.identity,
            Coding::Br => self.br,
            Coding::Gzip => self.gzip,
        }
    }

    /// Among the codings with the highest weight above zero, the one with the fewest bytes
    /// (`size` tells them; `None`: not available), or identity where it is acceptable and
    /// no larger (a coding that does not shrink the body is not worth decoding); `None` when
    /// nothing available is acceptable (406).
    pub fn choose(&self, size: impl Fn(Coding) -> Option<usize>) -> Option<Coding> {
        let (best, best_len) = [Coding::Br, Coding::Gzip, Coding::Identity]
            .into_iter()
            .filter(|c| self.weight(*c) > 0)
            .filter_map(|c| Some((c, size(c)?)))
            .min_by_key(|(c, len)| (std::cmp::Reverse(self.weight(*c)), *len))?;
        let plain_fits = self.identity > 0 && size(Coding::Identity).is_some_and(|l| l <= best_len);
        Some(if plain_fits { Coding::Identity } else { best })
    }
}

/// A q-value (`0`, `0.5`, `1.000`) in thousandths; `None` when it is not one.
fn qvalue(v: &str) -> Option<u16> {
    let (whole, fraction) = v.split_once('.').unwrap_or((v, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let scaled = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(scaled),
        "1" if scaled == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    fn accepted(v: &str) -> Accepted {
        Accepted::parse(Some(&HeaderValue::from_str(v).unwrap()))
    }

    /// Sizes as a cached entry has them: compressed forms smaller than the identity bytes.
    fn sizes(c: Coding) -> Option<usize> {
        Some(match c {
            Coding::Br => 300,
            Coding::Gzip => 350,
            Coding::Identity => 1000,
        })
    }

    #[test]
    fn the_preferred_then_smallest_acceptable_representation_is_chosen() {
        use Coding::{Br, Gzip, Identity};
        assert_eq!(
            Accepted::parse(None).choose(sizes),
            Some(Identity),
            "no header"
        );
        for (header, chosen) in [
            ("br, gzip", Some(Br)),
            ("gzip, deflate", Some(Gzip)),
            ("gzip;q=1, br;q=0.5", Some(Gzip)),
            ("x-gzip", Some(Gzip)),
            ("*", Some(Br)),
            ("br;q=0, *", Some(Gzip)),
            ("", Some(Identity)),
            ("zstd, deflate", Some(Identity)),
            ("identity", Some(Identity)),
            ("br;q=0.2, identity;q=0.5", Some(Identity)),
            // identity;q=0 is respected: a compressed form, or nothing (406).
            ("gzip, identity;q=0", Some(Gzip)),
            ("zstd, identity;q=0", None),
            ("*;q=0", None),
            ("br, *;q=0", Some(Br)),
            // Unreadable weights are ignored, not guessed.
            ("br;q=2, gzip", Some(Gzip)),
            ("br;q=abc", Some(Identity)),
            ("BR;Q=0.9, gzip;q=0.8", Some(Br)),
        ] {
            assert_eq!(accepted(header).choose(sizes), chosen, "{header:?}");
        }
        // A small body whose compressed forms are not smaller: identity.
        let small = |c| Some(if c == Identity { 50 } else { 60 });
        assert_eq!(accepted("br, gzip").choose(small), Some(Identity));
        // Only what is available is chosen.
        let plain_only = |c| (c == Identity).then_some(10);
        assert_eq!(accepted("br").choose(plain_only), Some(Identity));
    }

    #[test]
    fn q_values_are_read_as_rfc_9110_writes_them() {
        assert_eq!(qvalue("1"), Some(1000));
        assert_eq!(qvalue("1.000"), Some(1000));
        assert_eq!(qvalue("0"), Some(0));
        assert_eq!(qvalue("0.5"), Some(500));
        assert_eq!(qvalue("0.001"), Some(1));
        assert_eq!(qvalue("1.5"), None);
        assert_eq!(qvalue("0.0001"), None);
        assert_eq!(qvalue("-1"), None);
        assert_eq!(qvalue(""), None);
    }

    /// Undoes `coding`.
    fn decoded(coding: Coding, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        match coding {
            Coding::Br => brotli::Decompressor::new(bytes, 4096).read_to_end(&mut out),
            Coding::Gzip => flate2::read::GzDecoder::new(bytes).read_to_end(&mut out),
            Coding::Identity => return bytes.to_vec(),
        }
        .unwrap();
        out
    }

    #[test]
    fn compressed_forms_decode_to_the_identity_bytes_and_have_their_own_etag() {
        let body = (0..200)
            .map(|i| format!("{{\"note\":\"groceries {i}\",\"amount_minor\":{}}}", i * 37))
            .collect::<Vec<_>>()
            .join(",");
        let identity = HeaderValue::from_static("\"abc-1\"");
        let br = Encoded::of(body.as_bytes(), &identity, Coding::Br, Level::Fast);
        assert_eq!(decoded(Coding::Br, &br.body), body.as_bytes());
        assert!(br.body.len() < body.len() / 4);
        assert_eq!(br.etag, "\"abc-1-br4\"");
        let small = Encoded::of(body.as_bytes(), &identity, Coding::Br, Level::Small);
        assert_eq!(decoded(Coding::Br, &small.body), body.as_bytes());
        assert!(small.body.len() <= br.body.len());
        assert_eq!(
            small.etag, "\"abc-1-br11\"",
            "other bytes, another validator"
        );
        let gz = Encoded::of(body.as_bytes(), &identity, Coding::Gzip, Level::Fast);
        assert_eq!(decoded(Coding::Gzip, &gz.body), body.as_bytes());
        assert_eq!(gz.etag, "\"abc-1-gz\"");
        assert_eq!(
            etag_for(&identity, Coding::Identity, Level::Small),
            identity
        );
        for tiny in ["", "x"] {
            for level in [Level::Fast, Level::Small] {
                let encoded = Coding::Br.encode(tiny.as_bytes(), level);
                assert_eq!(decoded(Coding::Br, &encoded), tiny.as_bytes());
            }
        }
    }
}
