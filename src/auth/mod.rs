//! Who is asking: the session cookie, the signed-in user and their family, sessions, the
//! in-process cache of members, password hashing and login throttling. (Finding them from a
//! request, the extractors, is `http::member`.)

mod members;
pub mod password;
pub mod sessions;

pub use members::{MemberCache, MEMBER_TTL};

use crate::store::{FamilyRecord, UserRecord};
use app::model::Role;
use axum::http::{header, HeaderMap, HeaderValue};

pub const SESSION_COOKIE: &str = "hearth_session";

/// The session id from the `Cookie` header, if any.
pub fn session_id(headers: &HeaderMap) -> Option<String> {
    session_value(headers).map(str::to_string)
}

/// The session cookie's value, borrowed from the request.
pub fn session_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// Whether the browser reached us over https (directly or through a proxy that says so).
fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// `Set-Cookie` for a new session: HttpOnly, SameSite=Lax, Secure behind https.
pub fn session_cookie(id: &str, request: &HeaderMap) -> HeaderValue {
    let secure = if is_https(request) { "; Secure" } else { "" };
    let max_age = sessions::SESSION_TTL.as_secs();
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={id}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("hearth_session=; Path=/; Max-Age=0"))
}

pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("hearth_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0")
}

/// The signed-in user.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub user: UserRecord,
    pub session_id: String,
}

/// A signed-in user who belongs to a family. Shared: the hot read path clones it per request.
#[derive(Clone, Debug)]
pub struct FamilyMember(std::sync::Arc<Member>);

#[derive(Debug)]
pub struct Member {
    pub user: UserRecord,
    pub family: FamilyRecord,
    pub role: Role,
    /// The family's time zone, parsed once (the cache key of every read holds its date).
    time_zone: chrono_tz::Tz,
}

impl FamilyMember {
    pub fn new(user: UserRecord, family: FamilyRecord, role: Role) -> Self {
        let time_zone = crate::clock::time_zone_of(&family);
        FamilyMember(std::sync::Arc::new(Member {
            user,
            family,
            role,
            time_zone,
        }))
    }
}

impl Member {
    /// Today in the family's time zone.
    pub fn today(&self) -> chrono::NaiveDate {
        crate::clock::today_in(self.time_zone)
    }
}

impl std::ops::Deref for FamilyMember {
    type Target = Member;

    fn deref(&self) -> &Member {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; hearth_session=abc; b=2"),
        );
        assert_eq!(session_id(&h).as_deref(), Some("abc"));
        h.insert(header::COOKIE, HeaderValue::from_static("hearth_session="));
        assert_eq!(session_id(&h), None);
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_behind_https() {
        let mut h = HeaderMap::new();
        let plain = session_cookie("x", &h);
        let plain = plain.to_str().unwrap();
        assert!(
            plain.contains("HttpOnly")
                && plain.contains("SameSite=Lax")
                && plain.contains("Path=/")
        );
        assert!(!plain.contains("Secure"));
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(session_cookie("x", &h)
            .to_str()
            .unwrap()
            .contains("; Secure"));
    }
}
