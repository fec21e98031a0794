//! The last line of defence for the Jira credential: every tool result and every
//! log line passes through [`secrets`], which replaces the API token and the
//! forms it travels in (`email:token` and its HTTP Basic base64) with
//! `[REDACTED]`.
//!
//! The credential is never rendered on purpose; this catches it when someone else
//! echoes it back: an upstream or proxy that copies the `Authorization` header
//! into an error body, or a library that logs whole responses at debug level.
//! The forms are registered once per process when the server is built
//! ([`register`]); the log writer and the MCP layer both read them from here.

use std::{
    borrow::Cow,
    io::{self, Write},
    sync::RwLock,
};

use base64::Engine;
use secrecy::ExposeSecret;

use crate::config::Auth;

/// What a scrubbed credential is replaced with.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// Shorter forms are not scrubbed: they would mangle ordinary text, and no real
/// token is that short.
const MIN_LEN: usize = 6;

/// Every form of every registered credential.
static NEEDLES: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// The forms in which `auth` can appear in text.
fn forms(auth: &Auth) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    match auth {
        Auth::Basic { email, token } => {
            let pair = format!("{email}:{}", token.expose_secret());
            let mut all = vec![token.expose_secret().to_owned()];
            for engine in [&STANDARD, &URL_SAFE] {
                all.push(engine.encode(&pair));
            }
            for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
                all.push(engine.encode(&pair));
            }
            all.push(pair);
            all
        }
        Auth::Bearer(token) => vec![token.expose_secret().to_owned()],
    }
}

/// Registers the credential's forms for scrubbing (idempotent).
pub fn register(auth: &Auth) {
    let mut needles = NEEDLES.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    for form in forms(auth) {
        if form.len() >= MIN_LEN && !needles.contains(&form) {
            needles.push(form);
        }
    }
    // Longest first, so `email:token` goes before the token inside it.
    needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
}

/// Registers another secret (the E2B API key) for scrubbing, as itself (idempotent).
pub fn register_secret(secret: &secrecy::SecretString) {
    let form = secret.expose_secret().to_owned();
    let mut needles = NEEDLES.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    if form.len() >= MIN_LEN && !needles.contains(&form) {
        needles.push(form);
    }
    needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
}

/// `text` with every registered credential form replaced by [`REDACTED`].
/// Text without one comes back borrowed.
pub fn secrets(text: &str) -> Cow<'_, str> {
    let needles = NEEDLES.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    if !needles.iter().any(|n| text.contains(n.as_str())) {
        return Cow::Borrowed(text);
    }
    let mut clean = text.to_owned();
    for needle in needles.iter() {
        if clean.contains(needle.as_str()) {
            clean = clean.replace(needle.as_str(), REDACTED);
        }
    }
    Cow::Owned(clean)
}

/// A writer that scrubs what passes through it; the log subscriber writes each
/// event with one `write`, so a credential is never split across two.
#[derive(Debug)]
pub struct Scrubbing<W>(pub W);

impl<W: Write> Write for Scrubbing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match std::str::from_utf8(buf) {
            Ok(text) => self.0.write_all(secrets(text).as_bytes())?,
            Err(_) => self.0.write_all(secrets(&String::from_utf8_lossy(buf)).as_bytes())?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    fn auth(token: &str) -> Auth {
        Auth::Basic { email: "scrub-test@example.com".to_owned(), token: SecretString::from(token) }
    }

    #[test]
    fn the_token_and_its_basic_forms_are_replaced() {
        let basic = base64::engine::general_purpose::STANDARD.encode("scrub-test@example.com:ATATT3xScrubTest0123");
        let line = format!(
            "echo: Authorization: Basic {basic} token=ATATT3xScrubTest0123 pair=scrub-test@example.com:ATATT3xScrubTest0123"
        );
        // Control: before registration the text passes unchanged, so the assertions below can fail.
        assert_eq!(secrets(&line), line);
        register(&auth("ATATT3xScrubTest0123"));
        let clean = secrets(&line);
        assert_eq!(clean, "echo: Authorization: Basic [REDACTED] token=[REDACTED] pair=[REDACTED]");
        assert!(matches!(secrets("nothing secret here"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_e2b_api_key_is_replaced_once_registered() {
        let line = "E2B said: bad key e2b_scrubtest_4f1c9a in X-API-Key";
        // Control: before registration the text passes unchanged.
        assert_eq!(secrets(line), line);
        register_secret(&SecretString::from("e2b_scrubtest_4f1c9a"));
        assert_eq!(secrets(line), "E2B said: bad key [REDACTED] in X-API-Key");
    }

    #[test]
    fn log_lines_are_scrubbed_on_the_way_out() {
        register(&auth("ATATT3xLogTest4567"));
        let mut out = Scrubbing(Vec::new());
        out.write_all(b"DEBUG response body: {\"x\": \"ATATT3xLogTest4567\"}\n").unwrap();
        assert_eq!(String::from_utf8(out.0).unwrap(), "DEBUG response body: {\"x\": \"[REDACTED]\"}\n");
    }
}
