//! Unit tests of the client: the redirect policy and Retry-After parsing.

use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

use super::*;

fn after(raw: &'static str) -> Option<Duration> {
    let mut h = HeaderMap::new();
    h.insert(RETRY_AFTER, HeaderValue::from_static(raw));
    retry_after(&h)
}

#[test]
fn redirects_stay_on_the_site_or_its_media_service() {
    let allowed =
        |base: &str, to: &str| redirect_allowed(&reqwest::Url::parse(base).unwrap(), &reqwest::Url::parse(to).unwrap());
    let cloud = "https://acme.atlassian.net";
    assert!(allowed(cloud, "https://acme.atlassian.net/rest/api/3/issue/10001"));
    assert!(allowed(cloud, "https://ACME.atlassian.net:443/x"), "same origin, spelled differently");
    assert!(allowed(cloud, "https://api.media.atlassian.com/file/abc/binary?token=t"));
    assert!(allowed("https://api.atlassian.com/ex/jira/35273b54", "https://api.media.atlassian.com/file/abc"));
    assert!(allowed("http://127.0.0.1:8080", "http://127.0.0.1:8080/rest/api/3/attachment/content/1"));
    for foreign in [
        "https://other.atlassian.net/x",
        "http://acme.atlassian.net/x",
        "https://acme.atlassian.net:8443/x",
        "http://api.media.atlassian.com/file/abc/binary",
        "https://api.media.atlassian.com.evil.example/file",
        "https://evil.example/api.media.atlassian.com",
    ] {
        assert!(!allowed(cloud, foreign), "{foreign} must not be followed");
    }
    assert!(!allowed("http://127.0.0.1:8080", "http://127.0.0.1:8081/x"), "another port is another host");
    assert!(
        !allowed("https://jira.example.com", "https://api.media.atlassian.com/file/abc"),
        "the media service belongs to Jira Cloud sites only"
    );
}

#[test]
fn a_redirect_is_named_by_its_origin_only() {
    let mut h = HeaderMap::new();
    h.insert(reqwest::header::LOCATION, HeaderValue::from_static("https://evil.example:8443/steal?token=abc"));
    assert_eq!(location_origin(&h, "https://acme.atlassian.net"), "https://evil.example:8443");
    h.insert(reqwest::header::LOCATION, HeaderValue::from_static("/login"));
    assert_eq!(location_origin(&h, "https://acme.atlassian.net"), "https://acme.atlassian.net");
    h.remove(reqwest::header::LOCATION);
    assert_eq!(location_origin(&h, "not a url"), "an address that is not a URL");
}

#[test]
fn retry_after_parses_seconds_and_survives_garbage() {
    assert_eq!(after("2"), Some(Duration::from_secs(2)));
    assert_eq!(after("0.5"), Some(Duration::from_millis(500)));
    assert_eq!(after("1e20"), None, "would overflow Duration: ignored, not a panic");
    assert_eq!(after("-5"), None);
    assert_eq!(after("soon"), None);
}
