//! Where the Jira client may follow a redirect, and how a refused one is named.

use reqwest::header::HeaderMap;

/// Jira Cloud's media service: attachment downloads of `*.atlassian.net` sites redirect there.
const MEDIA_HOST: &str = "api.media.atlassian.com";
/// Redirects followed in a row before the request fails.
const MAX_REDIRECTS: usize = 5;

/// Whether a redirect away from the site `base` to `to` may be followed: to the same
/// origin (scheme, host, port), or over https to Jira Cloud's media service when the site
/// is on Jira Cloud. Anything else stops, and the 3xx becomes `Error::Redirected`: a
/// response can never send this server to a host it names.
pub(super) fn redirect_allowed(base: &reqwest::Url, to: &reqwest::Url) -> bool {
    let https_to = |u: &reqwest::Url, host: &str| {
        u.scheme() == "https" && u.port_or_known_default() == Some(443) && u.host_str() == Some(host)
    };
    // A site's own address, or the API gateway scoped tokens use (`Url` lowercases hosts).
    let cloud = base.scheme() == "https"
        && base.host_str().is_some_and(|h| h.ends_with(".atlassian.net") || h == "api.atlassian.com");
    base.origin() == to.origin() || (cloud && https_to(to, MEDIA_HOST))
}

/// The redirect policy for the site `base` (see [`redirect_allowed`]).
pub(super) fn redirect_policy(base: &str) -> reqwest::redirect::Policy {
    let Ok(base) = reqwest::Url::parse(base) else { return reqwest::redirect::Policy::none() };
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(format!("more than {MAX_REDIRECTS} redirects in a row"))
        } else if redirect_allowed(&base, attempt.url()) {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// `scheme://host:port` of a redirect's `Location` (relative to `url`), for messages:
/// the path and query of a foreign address are not repeated.
pub(super) fn location_origin(headers: &HeaderMap, url: &str) -> String {
    let location = headers.get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let target = reqwest::Url::parse(url).and_then(|base| base.join(location));
    match target {
        Ok(t) if t.host_str().is_some() => t.origin().ascii_serialization(),
        _ => "an address that is not a URL".to_owned(),
    }
}
