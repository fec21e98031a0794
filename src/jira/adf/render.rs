//! ADF → Markdown. Every node has a form that converts back to the same node
//! (see the table in `adf.rs`); text is escaped so that it cannot turn into
//! markup on the way back. Never fails: what has no form becomes a placeholder.

use serde_json::Value;

use super::{
    common::{CARD, DATE, EMOJI, KEPT, MEDIA, MENTION, PANELS, STATUS, attr, attr_str, children, mark_rank, node_type},
    keep,
};

/// Renders an ADF document (or any ADF node) as Markdown.
pub(crate) fn to_markdown(doc: &Value) -> String {
    let out = match node_type(doc) {
        "doc" => blocks(doc),
        _ => block(doc),
    };
    out.trim_end().to_owned()
}

fn blocks(node: &Value) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut previous = "";
    let mut alternate = false;
    for child in children(node) {
        let kind = node_type(child);
        // Two lists in a row would merge into one: the second uses the other marker.
        alternate = matches!(kind, "bulletList" | "orderedList") && kind == previous && !alternate;
        let text = match kind {
            "bulletList" => list(child, None, alternate),
            "orderedList" => list(child, Some(attr(child, "order").and_then(Value::as_u64).unwrap_or(1)), alternate),
            _ => block(child),
        };
        previous = kind;
        if !text.is_empty() {
            out.push(text);
        }
    }
    out.join("\n\n")
}

/// A placeholder for a node without a Markdown form: visible (its kind and the start of
/// its text), and restored whole on the way back.
fn kept(node: &Value) -> String {
    let text: String = plain_text(node).split_whitespace().collect::<Vec<_>>().join(" ");
    let label = match text.char_indices().nth(KEPT_TEXT) {
        Some((cut, _)) => format!("{}: {}…", node_type(node), text.get(..cut).unwrap_or_default()),
        None if text.is_empty() => node_type(node).to_owned(),
        None => format!("{}: {text}", node_type(node)),
    };
    format!("[{}]({KEPT}{})", escape(&label), keep::keep(node))
}

/// Characters of a kept node's text shown in its placeholder.
const KEPT_TEXT: usize = 200;

fn block(node: &Value) -> String {
    match node_type(node) {
        "paragraph" => escape_line_start(&inlines(children(node))),
        "heading" => {
            let level = attr(node, "level").and_then(Value::as_u64).unwrap_or(1).clamp(1, 6);
            format!("{} {}", "#".repeat(usize::try_from(level).unwrap_or(1)), inlines(children(node)))
        }
        "bulletList" => list(node, None, false),
        "orderedList" => list(node, Some(attr(node, "order").and_then(Value::as_u64).unwrap_or(1)), false),
        "codeBlock" => {
            let lang = attr_str(node, "language").unwrap_or_default();
            let code = plain_text(node);
            // A fence longer than any backtick run inside keeps the code intact.
            let longest = code.split(|c| c != '`').map(str::len).max().unwrap_or(0);
            let fence = "`".repeat(longest.max(2) + 1);
            format!("{fence}{lang}\n{code}\n{fence}")
        }
        "blockquote" => prefix_lines(&blocks(node), "> "),
        "panel" => {
            let kind = attr_str(node, "panelType").filter(|t| PANELS.contains(t)).unwrap_or("");
            if kind.is_empty() || node.get("attrs").and_then(Value::as_object).is_some_and(|a| a.len() > 1) {
                return kept(node);
            }
            format!(":::{kind}\n{}\n:::", blocks(node))
        }
        "expand" | "nestedExpand" => {
            let marker = if node_type(node) == "expand" { "expand" } else { "nested-expand" };
            let title = attr_str(node, "title").unwrap_or_default();
            format!(":::{marker} {title}\n{}\n:::", blocks(node))
                .replace(&format!(":::{marker} \n"), &format!(":::{marker}\n"))
        }
        "rule" => "---".to_owned(),
        // Only inside lists (see `list`); a stray one, as deep flattening can leave, shows its content.
        "listItem" => children(node).iter().map(block).collect::<Vec<_>>().join("\n"),
        "table" if node.get("attrs").is_none() => table(node).unwrap_or_else(|| kept(node)),
        "mediaSingle" => match children(node) {
            [media] if node_type(media) == "media" => media_form(media).unwrap_or_else(|| kept(node)),
            _ => kept(node),
        },
        // Every other block (extensions, layouts, task lists, cards, unknown types): kept whole.
        _ => kept(node),
    }
}

/// `![alt](attachment:ID)` for a media node with nothing but an id and an alt text.
fn media_form(media: &Value) -> Option<String> {
    let attrs = media.get("attrs")?.as_object()?;
    let plain = attrs.keys().all(|k| matches!(k.as_str(), "id" | "type" | "collection" | "alt"))
        && attrs.get("type").and_then(Value::as_str) == Some("file")
        && attrs.get("collection").and_then(Value::as_str).is_none_or(str::is_empty);
    let id = attrs.get("id")?.as_str()?;
    plain.then(|| format!("![{}]({MEDIA}{id})", escape(attrs.get("alt").and_then(Value::as_str).unwrap_or_default())))
}

/// A list; `alternate` picks the other marker (`*`, `n)`) so it does not merge with
/// the list just before it.
fn list(node: &Value, start: Option<u64>, alternate: bool) -> String {
    let mut lines = Vec::new();
    for (i, item) in children(node).iter().enumerate() {
        let marker = match (start, alternate) {
            (Some(n), false) => format!("{}. ", n + i as u64),
            (Some(n), true) => format!("{}) ", n + i as u64),
            (None, false) => "- ".to_owned(),
            (None, true) => "* ".to_owned(),
        };
        // An ordered list not starting at 1 cannot interrupt a paragraph: a blank line first.
        let parts: Vec<String> = children(item)
            .iter()
            .map(|b| {
                let text = block(b);
                let needs_gap =
                    node_type(b) == "orderedList" && attr(b, "order").and_then(Value::as_u64).is_some_and(|o| o != 1);
                if needs_gap { format!("\n{text}") } else { text }
            })
            .collect();
        let body = parts.join("\n");
        let indent = " ".repeat(marker.len());
        for (j, line) in body.lines().enumerate() {
            let lead = if j == 0 { marker.as_str() } else { indent.as_str() };
            lines.push(if line.is_empty() { String::new() } else { format!("{lead}{line}") });
        }
        if body.is_empty() {
            lines.push(marker.trim_end().to_owned());
        }
    }
    lines.join("\n")
}

fn prefix_lines(text: &str, prefix: &str) -> String {
    text.lines().map(|l| format!("{prefix}{l}").trim_end().to_owned()).collect::<Vec<_>>().join("\n")
}

/// A GFM table when the table has a header row and one paragraph per cell; `None` otherwise.
fn table(node: &Value) -> Option<String> {
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (n, row) in children(node).iter().enumerate() {
        let want = if n == 0 { "tableHeader" } else { "tableCell" };
        let mut cells = Vec::new();
        for cell in children(row) {
            let simple = node_type(cell) == "tableHeader" && want == "tableHeader"
                || node_type(cell) == "tableCell" && want == "tableCell";
            let [p] = children(cell) else { return None };
            if !simple || node_type(p) != "paragraph" || cell.get("attrs").is_some() {
                return None;
            }
            cells.push(inlines(children(p)).replace('\n', "<br>"));
        }
        rows.push(cells);
    }
    let width = rows.first().map(Vec::len).filter(|w| *w > 0)?;
    if rows.iter().any(|r| r.len() != width) {
        return None;
    }
    let render = |cells: &[String]| format!("| {} |", cells.join(" | "));
    let mut out = Vec::with_capacity(rows.len() + 1);
    out.push(render(rows.first()?));
    out.push(format!("|{}|", vec![" --- "; width].join("|")));
    out.extend(rows.iter().skip(1).map(|r| render(r)));
    Some(out.join("\n"))
}

fn inlines(nodes: &[Value]) -> String {
    nodes.iter().map(inline).collect()
}

fn inline(node: &Value) -> String {
    match node_type(node) {
        "text" => marked(node),
        "hardBreak" => "\n".to_owned(),
        "mention" => {
            let id = attr_str(node, "id").unwrap_or_default();
            let text = attr_str(node, "text").unwrap_or_default();
            let name = if text.starts_with('@') { text.to_owned() } else { format!("@{text}") };
            format!("[{}]({MENTION}{id})", escape(&name))
        }
        "emoji" => {
            let short = attr_str(node, "shortName").unwrap_or_default();
            format!("[{}]({EMOJI}{short})", escape(short))
        }
        "date" => {
            let day = attr(node, "timestamp")
                .and_then(|t| t.as_str().and_then(|s| s.parse::<i64>().ok()).or_else(|| t.as_i64()))
                .and_then(chrono::DateTime::from_timestamp_millis)
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default();
            format!("[{day}]({DATE}{day})")
        }
        "status" => {
            let colour = attr_str(node, "color").unwrap_or("neutral");
            format!("[{}]({STATUS}{colour})", escape(attr_str(node, "text").unwrap_or_default()))
        }
        "inlineCard" => match attr_str(node, "url") {
            Some(url) => format!("[{}]({CARD}{url})", escape(url)),
            None => kept(node),
        },
        _ => kept(node),
    }
}

fn marked(node: &Value) -> String {
    let mut text = escape(node.get("text").and_then(Value::as_str).unwrap_or_default());
    let mut marks: Vec<&Value> = node.get("marks").and_then(Value::as_array).into_iter().flatten().collect();
    // Innermost first: the reverse of the canonical order.
    marks.sort_by_key(|m| std::cmp::Reverse(mark_rank(m)));
    for mark in marks {
        text = match node_type(mark) {
            "code" => format!("`{}`", node.get("text").and_then(Value::as_str).unwrap_or_default()),
            "em" => format!("*{text}*"),
            "strong" => format!("**{text}**"),
            "strike" => format!("~~{text}~~"),
            "underline" => format!("<u>{text}</u>"),
            "subsup" if attr_str(mark, "type") == Some("sup") => format!("<sup>{text}</sup>"),
            "subsup" => format!("<sub>{text}</sub>"),
            "textColor" => {
                format!("<span style=\"color: {}\">{text}</span>", attr_str(mark, "color").unwrap_or("#000000"))
            }
            "link" => format!("[{text}]({})", attr_str(mark, "href").unwrap_or_default()),
            _ => text,
        };
    }
    text
}

/// Backslash-escapes what Markdown would read as markup. An underscore inside a word
/// (`delete_issue`) cannot open or close emphasis and stays as it is.
fn escape(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let intraword = |j: Option<usize>| j.and_then(|j| chars.get(j)).is_some_and(|n| n.is_alphanumeric());
        let inner_underscore = c == '_' && intraword(i.checked_sub(1)) && intraword(Some(i + 1));
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '~' | '&' | '!' | '|' | '#')
            && !inner_underscore
        {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escapes a paragraph line that would start a list, heading, quote or rule.
fn escape_line_start(text: &str) -> String {
    text.lines()
        .map(|line| {
            let digits = line.chars().take_while(char::is_ascii_digit).count();
            let after = line.get(digits..).unwrap_or_default();
            if line.starts_with(['-', '+', '=']) || line.starts_with(":::") {
                format!("\\{line}")
            } else if digits > 0 && (after.starts_with(". ") || after.starts_with(") ") || after == "." || after == ")")
            {
                format!("{}\\{after}", line.get(..digits).unwrap_or_default())
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn plain_text(node: &Value) -> String {
    if let Some(t) = node.get("text").and_then(Value::as_str) {
        return t.to_owned();
    }
    children(node).iter().map(plain_text).collect()
}
