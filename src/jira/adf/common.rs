//! Helpers both directions share: reading ADF nodes, the link schemes that carry
//! the inline nodes Markdown has no syntax for, and the canonical order of marks.

use serde_json::Value;

pub(super) fn node_type(node: &Value) -> &str {
    node.get("type").and_then(Value::as_str).unwrap_or_default()
}

pub(super) fn children(node: &Value) -> &[Value] {
    node.get("content").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

pub(super) fn attr<'a>(node: &'a Value, name: &str) -> Option<&'a Value> {
    node.get("attrs").and_then(|a| a.get(name))
}

pub(super) fn attr_str<'a>(node: &'a Value, name: &str) -> Option<&'a str> {
    attr(node, name).and_then(Value::as_str)
}

/// `[@Name](accountId:ID)`: a mention (the person is notified).
pub(super) const MENTION: &str = "accountId:";
/// `[TEXT](status:COLOUR)`: a status lozenge.
pub(super) const STATUS: &str = "status:";
/// `[2026-01-01](date:2026-01-01)`: a date.
pub(super) const DATE: &str = "date:";
/// `[:smile:](emoji::smile:)`: an emoji by short name.
pub(super) const EMOJI: &str = "emoji:";
/// `[URL](card:URL)`: an inline smart card.
pub(super) const CARD: &str = "card:";
/// `![ALT](attachment:ID)`: an image or file placed in the text (media).
pub(super) const MEDIA: &str = "attachment:";
/// `[KIND](adf:HASH)`: any other node, kept as it was (see `keep`).
pub(super) const KEPT: &str = "adf:";

/// Marks in the order every text node carries them, so that a round trip through
/// Markdown (where nesting decides the order) gives back the same node.
pub(super) const MARK_ORDER: &[&str] = &["link", "strike", "strong", "em", "underline", "subsup", "textColor", "code"];

/// The rank of a mark in [`MARK_ORDER`] (unknown marks last).
pub(super) fn mark_rank(mark: &Value) -> usize {
    MARK_ORDER.iter().position(|m| *m == node_type(mark)).unwrap_or(MARK_ORDER.len())
}

/// Panel types, written `:::TYPE` … `:::`.
pub(super) const PANELS: &[&str] = &["info", "note", "warning", "success", "error"];
