//! Markdown → ADF, driven by pulldown-cmark's event stream (CommonMark + GFM
//! tables, strikethrough and task lists), plus the forms of `adf.rs`' table:
//! `:::panel` containers, links with the node schemes (mentions, status, dates,
//! emoji, cards, media, kept nodes) and the inline HTML of underline, sub/sup and
//! colour. Never emits an empty text node, which Jira's schema forbids.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use serde_json::{Map, Value, json};

use super::{
    common::{CARD, DATE, EMOJI, KEPT, MEDIA, MENTION, PANELS, STATUS, children, mark_rank, node_type},
    keep,
};

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

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    marks: Vec<Value>,
    in_table_head: bool,
    /// Containers not opened because of [`MAX_DEPTH`]; their ends are skipped too.
    flattened: usize,
    /// Inside a link or image that stands for a node: (its destination, its text so far).
    special: Option<(String, String)>,
}

/// Converts Markdown to an ADF document.
pub(crate) fn from_markdown(markdown: &str) -> Value {
    json!({ "type": "doc", "version": 1, "content": blocks_of(markdown, 0) })
}

/// The blocks of a Markdown text: `:::kind` … `:::` containers become panels and
/// expands (nested up to [`MAX_DEPTH`]), everything between them goes through
/// pulldown-cmark. Fences inside code blocks are left alone.
fn blocks_of(markdown: &str, depth: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut plain = String::new();
    let mut lines = markdown.lines().peekable();
    let mut in_code: Option<String> = None;
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if let Some(fence) = &in_code {
            if trimmed.starts_with(fence.as_str()) {
                in_code = None;
            }
            plain.push_str(line);
            plain.push('\n');
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_code = Some(trimmed.chars().take_while(|c| *c == '`' || *c == '~').collect());
        }
        let opener = line.strip_prefix(":::").filter(|rest| !rest.is_empty() && depth < MAX_DEPTH);
        let Some(kind_title) = opener else {
            plain.push_str(line);
            plain.push('\n');
            continue;
        };
        let (kind, title) = kind_title.split_once(' ').unwrap_or((kind_title, ""));
        let kind = kind.trim().to_ascii_lowercase();
        if !(PANELS.contains(&kind.as_str()) || kind == "expand" || kind == "nested-expand") {
            plain.push_str(line);
            plain.push('\n');
            continue;
        }
        // The body runs to the matching `:::`, counting nested openers.
        let (mut body, mut open) = (String::new(), 1);
        for inner in lines.by_ref() {
            if inner.starts_with(":::") && inner.trim() == ":::" {
                open -= 1;
                if open == 0 {
                    break;
                }
            } else if inner.starts_with(":::") && inner.len() > 3 {
                open += 1;
            }
            body.push_str(inner);
            body.push('\n');
        }
        out.extend(pulldown_blocks(&std::mem::take(&mut plain)));
        let content = blocks_of(&body, depth + 1);
        out.push(match kind.as_str() {
            "expand" => json!({ "type": "expand", "attrs": { "title": title.trim() }, "content": content }),
            "nested-expand" => {
                json!({ "type": "nestedExpand", "attrs": { "title": title.trim() }, "content": content })
            }
            panel => json!({ "type": "panel", "attrs": { "panelType": panel }, "content": content }),
        });
    }
    out.extend(pulldown_blocks(&plain));
    out
}

/// Standard Markdown (no containers) to blocks.
fn pulldown_blocks(markdown: &str) -> Vec<Value> {
    if markdown.trim().is_empty() {
        return Vec::new();
    }
    let mut b = Builder { stack: vec![Frame::new("doc", None)], ..Builder::default() };
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    for event in Parser::new_ext(markdown, options) {
        b.event(event);
    }
    while b.stack.len() > 1 {
        b.close();
    }
    b.stack.pop().map(|f| f.content).unwrap_or_default().into_iter().map(lift_media).collect()
}

/// A paragraph holding only one media or kept block node becomes that node.
fn lift_media(block: Value) -> Value {
    if node_type(&block) == "paragraph"
        && let [only] = children(&block)
        && node_type(only) == BLOCK_HOLDER
        && let Some(node) = only.get("node")
    {
        return node.clone();
    }
    block
}

/// A stand-in, inside a paragraph, for a block node written inline (media, kept blocks).
const BLOCK_HOLDER: &str = "__block";

/// The node a special link or image stands for, from its destination and text.
fn special_node(dest: &str, text: &str, image: bool) -> Value {
    if image && let Some(id) = dest.strip_prefix(MEDIA) {
        let mut media = json!({ "type": "media", "attrs": { "type": "file", "id": id, "collection": "" } });
        if !text.is_empty()
            && let Some(attrs) = media.get_mut("attrs").and_then(Value::as_object_mut)
        {
            attrs.insert("alt".to_owned(), json!(text));
        }
        return json!({ "type": BLOCK_HOLDER, "node": { "type": "mediaSingle", "attrs": { "layout": "center" }, "content": [media] } });
    }
    if let Some(id) = dest.strip_prefix(MENTION) {
        return json!({ "type": "mention", "attrs": { "id": id, "text": text } });
    }
    if let Some(colour) = dest.strip_prefix(STATUS) {
        return json!({ "type": "status", "attrs": { "text": text, "color": colour } });
    }
    if let Some(day) = dest.strip_prefix(DATE) {
        let millis = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc().timestamp_millis().to_string())
            .unwrap_or_default();
        return json!({ "type": "date", "attrs": { "timestamp": millis } });
    }
    if let Some(short) = dest.strip_prefix(EMOJI) {
        return json!({ "type": "emoji", "attrs": { "shortName": short } });
    }
    if let Some(url) = dest.strip_prefix(CARD) {
        return json!({ "type": "inlineCard", "attrs": { "url": url } });
    }
    if let Some(id) = dest.strip_prefix(KEPT)
        && let Some(node) = keep::restore(id)
    {
        let inline = matches!(
            node_type(&node),
            "text"
                | "hardBreak"
                | "mention"
                | "emoji"
                | "date"
                | "status"
                | "inlineCard"
                | "mediaInline"
                | "placeholder"
                | "inlineExtension"
        );
        return if inline { node } else { json!({ "type": BLOCK_HOLDER, "node": node }) };
    }
    // The kept node is gone (a restart): the placeholder stays visible text.
    json!({ "type": "text", "text": format!("[{text}]({dest})") })
}

/// The mark an inline HTML tag opens, if it is one of underline, sub/sup or colour.
fn html_mark(tag: &str) -> Option<Value> {
    let tag = tag.trim();
    match tag {
        "<u>" => Some(json!({ "type": "underline" })),
        "<sub>" => Some(json!({ "type": "subsup", "attrs": { "type": "sub" } })),
        "<sup>" => Some(json!({ "type": "subsup", "attrs": { "type": "sup" } })),
        _ => {
            let colour = tag.strip_prefix("<span style=\"color: ")?.strip_suffix("\">")?;
            Some(json!({ "type": "textColor", "attrs": { "color": colour } }))
        }
    }
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
        if let Some((_, collected)) = self.special.as_mut() {
            collected.push_str(text);
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
        marks.sort_by_key(mark_rank);
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
            Event::InlineHtml(t) if t.trim() == "<br>" => {
                self.inline_target();
                self.leaf(json!({ "type": "hardBreak" }));
            }
            Event::InlineHtml(t) if html_mark(&t).is_some() => {
                if let Some(mark) = html_mark(&t) {
                    self.marks.push(mark);
                }
            }
            Event::InlineHtml(t) if matches!(t.trim(), "</u>" | "</sub>" | "</sup>" | "</span>") => {
                self.marks.pop();
            }
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
            Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }
                if [MENTION, STATUS, DATE, EMOJI, CARD, MEDIA, KEPT].iter().any(|s| dest_url.starts_with(s)) =>
            {
                self.special = Some((dest_url.to_string(), String::new()));
            }
            Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
                self.marks.push(json!({ "type": "link", "attrs": { "href": dest_url.as_ref() } }));
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Link | TagEnd::Image if self.special.is_some() => {
                if let Some((dest, text)) = self.special.take() {
                    let node = special_node(&dest, &text, matches!(tag, TagEnd::Image));
                    if node_type(&node) == "text" {
                        self.text(node.get("text").and_then(Value::as_str).unwrap_or_default(), None);
                    } else {
                        self.inline_target();
                        self.leaf(node);
                    }
                }
            }
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
