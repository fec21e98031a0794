//! Atlassian Document Format <-> Markdown. Pure: no IO, never fails.
//!
//! ADF -> Markdown walks the tree; unknown nodes degrade to their text.
//! Markdown -> ADF is driven by pulldown-cmark's event stream (CommonMark +
//! GFM tables and strikethrough); it never emits an empty text node, which
//! Jira's schema forbids.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------- ADF -> Markdown

/// Renders an ADF document (or any ADF node) as Markdown.
pub(crate) fn to_markdown(doc: &Value) -> String {
    let out = match node_type(doc) {
        "doc" => blocks(doc),
        _ => block(doc),
    };
    out.trim_end().to_owned()
}

fn node_type(node: &Value) -> &str {
    node.get("type").and_then(Value::as_str).unwrap_or_default()
}

fn children(node: &Value) -> &[Value] {
    node.get("content").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

fn attr<'a>(node: &'a Value, name: &str) -> Option<&'a Value> {
    node.get("attrs").and_then(|a| a.get(name))
}

fn attr_str<'a>(node: &'a Value, name: &str) -> Option<&'a str> {
    attr(node, name).and_then(Value::as_str)
}

fn blocks(node: &Value) -> String {
    children(node).iter().map(block).filter(|b| !b.is_empty()).collect::<Vec<_>>().join("\n\n")
}

fn block(node: &Value) -> String {
    match node_type(node) {
        "paragraph" => inlines(children(node)),
        "heading" => {
            let level = attr(node, "level").and_then(Value::as_u64).unwrap_or(1).clamp(1, 6);
            format!("{} {}", "#".repeat(usize::try_from(level).unwrap_or(1)), inlines(children(node)))
        }
        "bulletList" => list(node, None),
        "orderedList" => list(node, Some(attr(node, "order").and_then(Value::as_u64).unwrap_or(1))),
        "codeBlock" => {
            let lang = attr_str(node, "language").unwrap_or_default();
            format!("```{lang}\n{}\n```", plain_text(node))
        }
        "blockquote" | "panel" => prefix_lines(&blocks(node), "> "),
        "rule" => "---".to_owned(),
        "table" => table(node),
        "mediaSingle" | "mediaGroup" => children(node).iter().map(block).collect::<Vec<_>>().join("\n"),
        "media" => {
            format!("[attachment: {}]", attr_str(node, "alt").or_else(|| attr_str(node, "id")).unwrap_or("file"))
        }
        "expand" | "nestedExpand" => {
            let title = attr_str(node, "title").unwrap_or("Details");
            format!("**{title}**\n\n{}", blocks(node))
        }
        "blockCard" | "embedCard" => attr_str(node, "url").unwrap_or_default().to_owned(),
        // Unknown block: keep whatever text it holds.
        _ if children(node).iter().any(is_inline) => inlines(children(node)),
        _ if node.get("text").is_some() => inlines(std::slice::from_ref(node)),
        _ => blocks(node),
    }
}

fn is_inline(node: &Value) -> bool {
    matches!(node_type(node), "text" | "hardBreak" | "mention" | "emoji" | "date" | "status" | "inlineCard")
}

fn list(node: &Value, start: Option<u64>) -> String {
    let mut lines = Vec::new();
    for (i, item) in children(node).iter().enumerate() {
        let marker = match start {
            Some(n) => format!("{}. ", n + i as u64),
            None => "- ".to_owned(),
        };
        let body = children(item).iter().map(block).collect::<Vec<_>>().join("\n");
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

fn table(node: &Value) -> String {
    let rows: Vec<(bool, Vec<String>)> = children(node)
        .iter()
        .map(|row| {
            let cells = children(row);
            let header = !cells.is_empty() && cells.iter().all(|c| node_type(c) == "tableHeader");
            let texts = cells.iter().map(|c| blocks(c).replace('\n', " ").replace('|', "\\|")).collect();
            (header, texts)
        })
        .collect();
    let width = rows.iter().map(|(_, r)| r.len()).max().unwrap_or(0);
    if width == 0 {
        return String::new();
    }
    let render = |cells: &[String]| {
        let mut padded: Vec<&str> = cells.iter().map(String::as_str).collect();
        padded.resize(width, "");
        format!("| {} |", padded.join(" | "))
    };
    let mut out = Vec::new();
    let mut body = rows.as_slice();
    match rows.split_first() {
        Some(((true, head), rest)) => {
            out.push(render(head));
            body = rest;
        }
        _ => out.push(render(&vec![String::new(); width])),
    }
    out.push(format!("|{}|", vec![" --- "; width].join("|")));
    out.extend(body.iter().map(|(_, r)| render(r)));
    out.join("\n")
}

fn inlines(nodes: &[Value]) -> String {
    nodes.iter().map(inline).collect()
}

fn inline(node: &Value) -> String {
    match node_type(node) {
        "text" => marked(node),
        "hardBreak" => "\n".to_owned(),
        "mention" => attr_str(node, "text")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("@{}", attr_str(node, "id").unwrap_or("someone"))),
        "emoji" => attr_str(node, "text").or_else(|| attr_str(node, "shortName")).unwrap_or_default().to_owned(),
        "date" => attr(node, "timestamp")
            .and_then(|t| t.as_str().and_then(|s| s.parse::<i64>().ok()).or_else(|| t.as_i64()))
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        "status" => format!("[{}]", attr_str(node, "text").unwrap_or_default()),
        "inlineCard" => attr_str(node, "url").unwrap_or_default().to_owned(),
        _ => {
            let inner = inlines(children(node));
            if inner.is_empty() {
                node.get("text").and_then(Value::as_str).unwrap_or_default().to_owned()
            } else {
                inner
            }
        }
    }
}

fn marked(node: &Value) -> String {
    let mut text = node.get("text").and_then(Value::as_str).unwrap_or_default().to_owned();
    let marks = node.get("marks").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let has = |name: &str| marks.iter().any(|m| node_type(m) == name);
    if has("code") {
        text = format!("`{text}`");
    }
    if has("em") {
        text = format!("*{text}*");
    }
    if has("strong") {
        text = format!("**{text}**");
    }
    if has("strike") {
        text = format!("~~{text}~~");
    }
    if let Some(href) = marks.iter().find(|m| node_type(m) == "link").and_then(|m| attr_str(m, "href")) {
        text = format!("[{text}]({href})");
    }
    text
}

fn plain_text(node: &Value) -> String {
    if let Some(t) = node.get("text").and_then(Value::as_str) {
        return t.to_owned();
    }
    children(node).iter().map(plain_text).collect()
}

// ---------------------------------------------------------------- Markdown -> ADF

/// One node under construction.
struct Frame {
    node: Map<String, Value>,
    content: Vec<Value>,
    /// Opened by us to hold loose inline content (tight list items, table cells).
    implicit: bool,
}

impl Frame {
    fn new(kind: &str, attrs: Option<Value>) -> Self {
        let mut node = Map::new();
        node.insert("type".to_owned(), Value::String(kind.to_owned()));
        if let Some(attrs) = attrs {
            node.insert("attrs".to_owned(), attrs);
        }
        Self { node, content: Vec::new(), implicit: false }
    }

    fn kind(&self) -> &str {
        self.node.get("type").and_then(Value::as_str).unwrap_or_default()
    }

    fn holds_inline(&self) -> bool {
        matches!(self.kind(), "paragraph" | "heading" | "codeBlock")
    }

    fn finish(mut self) -> Value {
        if self.kind() != "rule" {
            self.node.insert("content".to_owned(), Value::Array(self.content));
        }
        Value::Object(self.node)
    }
}

/// Deepest nesting of blocks kept; deeper quotes and lists are flattened into
/// the level above. Jira renders nothing meaningful deeper, and an unbounded
/// depth would let a few hundred `>` characters overflow the stack.
pub(crate) const MAX_DEPTH: usize = 32;
/// Longest Markdown accepted for one field (Jira's limit for a text field).
pub(crate) const MAX_CHARS: usize = 32_767;
/// Most table cells accepted: a wide header pads every row to its width.
pub(crate) const MAX_TABLE_CELLS: usize = 20_000;

/// Refuses Markdown that Jira would reject or that would cost far more to
/// convert than its size suggests. `Err` names the problem and the fix.
pub(crate) fn check_markdown(text: &str) -> Result<(), String> {
    let chars = text.chars().count();
    if chars > MAX_CHARS {
        return Err(format!(
            "the text is {chars} characters; Jira accepts at most {MAX_CHARS} in one field: shorten it, or split it over several comments"
        ));
    }
    // A table row shorter than its header is padded to the header's width, even a row
    // without any `|`: count every line from the first table-like line on.
    let widest = text.lines().map(|l| l.matches('|').count()).max().unwrap_or(0);
    let rows = text.lines().skip_while(|l| !l.contains('|')).count();
    if widest > 0 && rows.saturating_mul(widest + 1) > MAX_TABLE_CELLS {
        return Err(format!(
            "the tables are too large ({rows} rows, up to {} columns; at most {MAX_TABLE_CELLS} cells): summarise the data, or attach it as a file",
            widest + 1
        ));
    }
    Ok(())
}

struct Builder {
    stack: Vec<Frame>,
    marks: Vec<Value>,
    in_table_head: bool,
    /// Containers not opened because of [`MAX_DEPTH`]; their ends are skipped too.
    flattened: usize,
}

/// Converts Markdown to an ADF document.
pub(crate) fn from_markdown(markdown: &str) -> Value {
    let mut b = Builder { stack: vec![Frame::new("doc", None)], marks: Vec::new(), in_table_head: false, flattened: 0 };
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    for event in Parser::new_ext(markdown, options) {
        b.event(event);
    }
    while b.stack.len() > 1 {
        b.close();
    }
    let mut doc = b.stack.pop().map(Frame::finish).unwrap_or_else(|| json!({"type": "doc", "content": []}));
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("version".to_owned(), json!(1));
    }
    doc
}

impl Builder {
    fn top(&mut self) -> Option<&mut Frame> {
        self.stack.last_mut()
    }

    fn push(&mut self, frame: Frame) {
        self.close_implicit();
        if self.stack.len() >= MAX_DEPTH {
            self.flattened += 1;
            return;
        }
        self.stack.push(frame);
    }

    /// Closes the innermost frame and appends it to its parent.
    fn close(&mut self) {
        if self.stack.len() <= 1 {
            return;
        }
        if let Some(frame) = self.stack.pop() {
            let node = frame.finish();
            if let Some(parent) = self.top() {
                parent.content.push(node);
            }
        }
    }

    fn close_implicit(&mut self) {
        while self.stack.last().is_some_and(|f| f.implicit) {
            self.close();
        }
    }

    /// Makes sure inline content has a paragraph (or heading) to go into.
    fn inline_target(&mut self) {
        if !self.stack.last().is_some_and(Frame::holds_inline) {
            let mut p = Frame::new("paragraph", None);
            p.implicit = true;
            self.stack.push(p);
        }
    }

    fn text(&mut self, text: &str, extra_mark: Option<Value>) {
        if text.is_empty() {
            return;
        }
        self.inline_target();
        let mut node = json!({ "type": "text", "text": text });
        let mut marks = self.marks.clone();
        if let Some(mark) = extra_mark {
            // ADF allows `code` only together with `link`.
            marks.retain(|m| node_type(m) == "link");
            marks.push(mark);
        }
        if !marks.is_empty()
            && let Some(obj) = node.as_object_mut()
        {
            obj.insert("marks".to_owned(), Value::Array(marks));
        }
        if let Some(top) = self.top() {
            top.content.push(node);
        }
    }

    fn leaf(&mut self, node: Value) {
        if let Some(top) = self.top() {
            top.content.push(node);
        }
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) => {
                if self.stack.last().is_some_and(|f| f.kind() == "codeBlock") {
                    if let Some(top) = self.top() {
                        // Code blocks hold one text node; concatenate the chunks.
                        match top.content.last_mut().and_then(|n| n.get_mut("text")) {
                            Some(Value::String(s)) => s.push_str(&t),
                            _ => top.content.push(json!({ "type": "text", "text": t.as_ref() })),
                        }
                    }
                } else {
                    self.text(&t, None);
                }
            }
            Event::Code(t) => self.text(&t, Some(json!({ "type": "code" }))),
            Event::Html(t) | Event::InlineHtml(t) => self.text(t.trim_end_matches('\n'), None),
            Event::SoftBreak | Event::HardBreak => {
                self.inline_target();
                self.leaf(json!({ "type": "hardBreak" }));
            }
            Event::Rule => {
                self.close_implicit();
                self.leaf(json!({ "type": "rule" }));
            }
            Event::TaskListMarker(done) => self.text(if done { "[x] " } else { "[ ] " }, None),
            Event::FootnoteReference(t) | Event::InlineMath(t) | Event::DisplayMath(t) => self.text(&t, None),
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => self.push(Frame::new("paragraph", None)),
            Tag::Heading { level, .. } => self.push(Frame::new("heading", Some(json!({ "level": level as u8 })))),
            Tag::BlockQuote(_) => self.push(Frame::new("blockquote", None)),
            Tag::CodeBlock(kind) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(l) if !l.trim().is_empty() => Some(json!({ "language": l.trim() })),
                    _ => None,
                };
                self.push(Frame::new("codeBlock", lang));
            }
            Tag::List(Some(start)) if start != 1 => {
                self.push(Frame::new("orderedList", Some(json!({ "order": start }))))
            }
            Tag::List(Some(_)) => self.push(Frame::new("orderedList", None)),
            Tag::List(None) => self.push(Frame::new("bulletList", None)),
            Tag::Item => self.push(Frame::new("listItem", None)),
            Tag::Table(_) => self.push(Frame::new("table", None)),
            Tag::TableHead => {
                self.in_table_head = true;
                self.push(Frame::new("tableRow", None));
            }
            Tag::TableRow => self.push(Frame::new("tableRow", None)),
            Tag::TableCell => {
                let kind = if self.in_table_head { "tableHeader" } else { "tableCell" };
                self.push(Frame::new(kind, None));
            }
            Tag::Emphasis => self.marks.push(json!({ "type": "em" })),
            Tag::Strong => self.marks.push(json!({ "type": "strong" })),
            Tag::Strikethrough => self.marks.push(json!({ "type": "strike" })),
            Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
                self.marks.push(json!({ "type": "link", "attrs": { "href": dest_url.as_ref() } }));
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough | TagEnd::Link | TagEnd::Image => {
                self.marks.pop();
            }
            TagEnd::Paragraph
            | TagEnd::Heading(_)
            | TagEnd::BlockQuote(_)
            | TagEnd::CodeBlock
            | TagEnd::List(_)
            | TagEnd::Item
            | TagEnd::Table
            | TagEnd::TableHead
            | TagEnd::TableRow
            | TagEnd::TableCell => {
                self.close_implicit();
                if matches!(tag, TagEnd::CodeBlock)
                    && let Some(Value::String(s)) =
                        self.top().and_then(|f| f.content.last_mut()).and_then(|n| n.get_mut("text"))
                {
                    let trimmed = s.trim_end_matches('\n').to_owned();
                    *s = trimmed;
                }
                if matches!(tag, TagEnd::TableHead) {
                    self.in_table_head = false;
                }
                // Ends arrive innermost first, so the flattened containers end before any kept one.
                if self.flattened > 0 {
                    self.flattened -= 1;
                    return;
                }
                self.close();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(adf: Value, expect: &str) {
        assert_eq!(to_markdown(&adf), expect);
    }

    #[track_caller]
    fn round_trip(markdown: &str) {
        assert_eq!(to_markdown(&from_markdown(markdown)), markdown, "round trip of {markdown:?}");
    }

    fn doc(content: Value) -> Value {
        json!({ "type": "doc", "version": 1, "content": content })
    }

    #[test]
    fn paragraph_with_marks_and_link() {
        check(
            doc(json!([{ "type": "paragraph", "content": [
                { "type": "text", "text": "bold", "marks": [{ "type": "strong" }] },
                { "type": "text", "text": " and " },
                { "type": "text", "text": "code", "marks": [{ "type": "code" }] },
                { "type": "text", "text": " " },
                { "type": "text", "text": "site", "marks": [{ "type": "link", "attrs": { "href": "https://x.y" } }] }
            ]}])),
            "**bold** and `code` [site](https://x.y)",
        );
    }

    #[test]
    fn mentions_emoji_status_and_dates_degrade_to_text() {
        check(
            doc(json!([{ "type": "paragraph", "content": [
                { "type": "mention", "attrs": { "id": "a1", "text": "@Dana" } },
                { "type": "text", "text": " " },
                { "type": "emoji", "attrs": { "shortName": ":smile:" } },
                { "type": "text", "text": " " },
                { "type": "status", "attrs": { "text": "BLOCKED" } },
                { "type": "text", "text": " " },
                { "type": "date", "attrs": { "timestamp": "1767225600000" } }
            ]}])),
            "@Dana :smile: [BLOCKED] 2026-01-01",
        );
    }

    #[test]
    fn unknown_nodes_keep_their_text() {
        check(
            doc(json!([{ "type": "fancyWidget", "content": [{ "type": "text", "text": "still here" }] }])),
            "still here",
        );
    }

    #[test]
    fn nested_lists_code_and_quotes_round_trip() {
        round_trip("# Title\n\nSome *em* and **strong** text.\n\n- one\n- two\n  - nested\n\n1. first\n2. second");
        round_trip("```rust\nfn main() {}\n```\n\n> quoted\n\n---\n\nend");
        round_trip("~~gone~~ and [link](https://example.com) and `x`");
    }

    #[test]
    fn tables_round_trip() {
        round_trip("| a | b |\n| --- | --- |\n| 1 | 2 |");
    }

    #[test]
    fn markdown_never_produces_empty_text_nodes() {
        fn walk(v: &Value) {
            if node_type(v) == "text" {
                assert!(!v["text"].as_str().unwrap().is_empty(), "empty text node");
            }
            for c in children(v) {
                walk(c);
            }
        }
        let adf = from_markdown("a  \nb\n\n- \n- x\n\n**\n\n| h |\n|---|\n|  |");
        walk(&adf);
        assert_eq!(adf["version"], 1);
        assert_eq!(adf["type"], "doc");
    }

    #[test]
    fn tight_list_items_get_paragraphs() {
        let adf = from_markdown("- item");
        assert_eq!(
            adf["content"][0],
            json!({ "type": "bulletList", "content": [{ "type": "listItem", "content": [
                { "type": "paragraph", "content": [{ "type": "text", "text": "item" }] }
            ]}]})
        );
    }

    fn depth(v: &Value) -> usize {
        1 + children(v).iter().map(depth).max().unwrap_or(0)
    }

    #[test]
    fn deep_nesting_is_flattened_not_a_stack_overflow() {
        // Review finding: ">" x 1000 in a comment used to abort the whole server.
        let adf = from_markdown(&format!("{} deep", ">".repeat(100_000)));
        assert!(depth(&adf) <= MAX_DEPTH + 3, "depth {}", depth(&adf));
        assert!(to_markdown(&adf).ends_with("deep"));
        let lists = (0..500).map(|i| format!("{}- item {i}", "  ".repeat(i))).collect::<Vec<_>>().join("\n");
        let adf = from_markdown(&lists);
        assert!(depth(&adf) <= MAX_DEPTH + 3);
        assert!(to_markdown(&adf).contains("item 499"));
    }

    #[test]
    fn oversized_text_and_tables_are_refused_with_a_next_step() {
        assert!(check_markdown("ok | fine").is_ok());
        let long = "x".repeat(MAX_CHARS + 1);
        assert!(
            check_markdown(&long).unwrap_err().starts_with("the text is 32768 characters; Jira accepts at most 32767")
        );
        let header = format!("{}|\n", "|x".repeat(1000));
        let table = format!("{header}{}|\n{}", "|-".repeat(1000), "x\n".repeat(20));
        assert!(check_markdown(&table).unwrap_err().starts_with("the tables are too large"));
    }

    #[test]
    fn line_breaks_become_hard_breaks() {
        let adf = from_markdown("line one\nline two");
        assert_eq!(adf["content"][0]["content"][1], json!({ "type": "hardBreak" }));
        assert_eq!(to_markdown(&adf), "line one\nline two");
    }
}
