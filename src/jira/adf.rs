//! Atlassian Document Format ⇄ Markdown, without silent loss. Pure: no IO, never fails.
//!
//! Every ADF node has a Markdown form that converts back to the same node:
//!
//! | ADF | Markdown |
//! |---|---|
//! | paragraph, hardBreak | text; a line break inside a paragraph |
//! | heading (1–6) | `#` … `######` |
//! | bulletList, orderedList (start n), listItem, nesting | `- item`, `n. item`, indented |
//! | codeBlock (language) | fenced code block with the language |
//! | blockquote, rule | `> quote`, `---` |
//! | table (header row, one paragraph per cell) | GFM table (`<br>` for line breaks in cells) |
//! | panel (info, note, warning, success, error) | `:::info` … `:::` |
//! | expand, nestedExpand (title) | `:::expand Title` … `:::`, `:::nested-expand Title` … `:::` |
//! | mediaSingle + media (file id, alt) | `![alt](attachment:ID)` |
//! | mention | `[@Name](accountId:ID)` |
//! | status (text, colour) | `[TEXT](status:COLOUR)` |
//! | date | `[2026-01-01](date:2026-01-01)` |
//! | emoji | `[:smile:](emoji::smile:)` |
//! | inlineCard | `[URL](card:URL)` |
//! | marks strong, em, strike, code, link | `**b**`, `*i*`, `~~s~~`, `` `c` ``, `[t](url)` |
//! | marks underline, subsup, textColor | `<u>u</u>`, `<sub>s</sub>`/`<sup>s</sup>`, `<span style="color: #hex">c</span>` |
//! | anything else (extensions, layouts, task lists, tables with merged cells, unknown types) | `[KIND](adf:ID)`: a visible placeholder for the original node, kept by the process (`keep`) |
//!
//! Text is escaped so that it never turns into markup. [`lost_nodes`] compares two
//! documents so that a write that would drop rich content can be refused.

mod common;
mod keep;
mod parse;
mod render;

use std::collections::BTreeMap;

use serde_json::Value;

pub(crate) use parse::{check_markdown, from_markdown};
pub(crate) use render::to_markdown;

/// Node kinds whose loss a plain edit must not cause silently.
const PRECIOUS: &[&str] = &[
    "mention",
    "media",
    "mediaSingle",
    "mediaGroup",
    "mediaInline",
    "panel",
    "expand",
    "nestedExpand",
    "status",
    "date",
    "emoji",
    "inlineCard",
    "blockCard",
    "embedCard",
];
/// Node kinds that are plain structure: dropping them is an ordinary edit.
const ORDINARY: &[&str] = &[
    "doc",
    "paragraph",
    "text",
    "hardBreak",
    "heading",
    "bulletList",
    "orderedList",
    "listItem",
    "codeBlock",
    "blockquote",
    "rule",
    "table",
    "tableRow",
    "tableHeader",
    "tableCell",
];

fn count_kinds(node: &Value, out: &mut BTreeMap<String, (usize, Vec<String>)>) {
    let kind = common::node_type(node);
    if PRECIOUS.contains(&kind) || !ORDINARY.contains(&kind) && !kind.is_empty() {
        let entry = out.entry(kind.to_owned()).or_default();
        entry.0 += 1;
        if kind == "mention"
            && let Some(name) = common::attr_str(node, "text")
        {
            entry.1.push(name.to_owned());
        }
    }
    for child in common::children(node) {
        count_kinds(child, out);
    }
}

/// What `new` would drop of `old`'s rich content: one entry per node kind with how
/// many fewer there are (mentions name the people), empty when nothing is lost.
pub(crate) fn lost_nodes(old: &Value, new: &Value) -> Vec<String> {
    let (mut before, mut after) = (BTreeMap::new(), BTreeMap::new());
    count_kinds(old, &mut before);
    count_kinds(new, &mut after);
    before
        .into_iter()
        .filter_map(|(kind, (n, names))| {
            let (m, kept) = after.get(&kind).map_or((0, Vec::new()), |(m, k)| (*m, k.clone()));
            (m < n).then(|| {
                let gone: Vec<String> = names.into_iter().filter(|name| !kept.contains(name)).collect();
                let who = if gone.is_empty() { String::new() } else { format!(" ({})", gone.join(", ")) };
                format!("{} {kind}{who}", n - m)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
