//! ADF ⇄ Markdown: data-driven cases, the loss check and property tests.

use serde_json::{Value, json};

use super::{
    common::{children, node_type},
    parse::{MAX_CHARS, MAX_DEPTH},
    *,
};

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
fn mentions_emoji_status_and_dates_have_reversible_forms() {
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
        "[@Dana](accountId:a1) [:smile:](emoji::smile:) [BLOCKED](status:neutral) [2026-01-01](date:2026-01-01)",
    );
}

#[test]
fn unknown_nodes_show_their_text_and_come_back_whole() {
    let widget =
        json!({ "type": "fancyWidget", "attrs": { "x": 1 }, "content": [{ "type": "text", "text": "still here" }] });
    let md = to_markdown(&doc(json!([widget])));
    assert!(md.starts_with("[fancyWidget: still here](adf:"), "{md}");
    assert_eq!(from_markdown(&md)["content"][0], widget, "the placeholder restores the original node");
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
    assert!(check_markdown(&long).unwrap_err().starts_with("the text is 32768 characters; Jira accepts at most 32767"));
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

/// Merges adjacent text nodes with the same marks: Markdown does not say where one
/// text node ends, so documents are compared in this form.
fn normalize(v: &Value) -> Value {
    let Some(obj) = v.as_object() else { return v.clone() };
    let mut out = obj.clone();
    if let Some(content) = obj.get("content").and_then(Value::as_array) {
        let mut merged: Vec<Value> = Vec::new();
        for child in content.iter().map(normalize) {
            if let (Some(last), "text") = (merged.last_mut(), node_type(&child))
                && node_type(last) == "text"
                && last.get("marks") == child.get("marks")
                && let (Some(Value::String(a)), Some(b)) = (last.get_mut("text"), child["text"].as_str())
            {
                a.push_str(b);
                continue;
            }
            merged.push(child);
        }
        out.insert("content".to_owned(), Value::Array(merged));
    }
    Value::Object(out)
}

#[track_caller]
fn same_after_round_trip(adf: &Value) {
    let md = to_markdown(adf);
    let back = from_markdown(&md);
    assert_eq!(normalize(&back), normalize(adf), "Markdown was:\n{md}");
}

fn text(t: &str) -> Value {
    json!({ "type": "text", "text": t })
}

fn marked(t: &str, marks: Value) -> Value {
    json!({ "type": "text", "text": t, "marks": marks })
}

fn para(content: Value) -> Value {
    json!({ "type": "paragraph", "content": content })
}

#[test]
fn every_documented_form_converts_back_to_the_same_node() {
    let doc = json!({ "type": "doc", "version": 1, "content": [
        { "type": "heading", "attrs": { "level": 2 }, "content": [text("Release notes")] },
        para(json!([
            marked("bold", json!([{ "type": "strong" }])), text(" "),
            marked("both", json!([{ "type": "strong" }, { "type": "em" }])), text(" "),
            marked("gone", json!([{ "type": "strike" }])), text(" "),
            marked("x = 1", json!([{ "type": "code" }])), text(" "),
            marked("site", json!([{ "type": "link", "attrs": { "href": "https://example.com/a" } }])), text(" "),
            marked("under", json!([{ "type": "underline" }])), text(" H"),
            marked("2", json!([{ "type": "subsup", "attrs": { "type": "sub" } }])), text("O x"),
            marked("2", json!([{ "type": "subsup", "attrs": { "type": "sup" } }])), text(" "),
            marked("red", json!([{ "type": "textColor", "attrs": { "color": "#ff5630" } }])), text(" "),
            { "type": "mention", "attrs": { "id": "acc-sam", "text": "@Sam Rivera" } }, text(" "),
            { "type": "emoji", "attrs": { "shortName": ":smile:" } }, text(" "),
            { "type": "status", "attrs": { "text": "BLOCKED", "color": "red" } }, text(" "),
            { "type": "date", "attrs": { "timestamp": "1767225600000" } }, text(" "),
            { "type": "inlineCard", "attrs": { "url": "https://example.com/card" } },
            { "type": "hardBreak" }, text("second line")
        ])),
        { "type": "bulletList", "content": [
            { "type": "listItem", "content": [para(json!([text("one")])),
                { "type": "orderedList", "attrs": { "order": 3 }, "content": [
                    { "type": "listItem", "content": [para(json!([text("three")]))] },
                    { "type": "listItem", "content": [para(json!([text("four")]))] }
                ]}
            ]},
            { "type": "listItem", "content": [para(json!([text("two")]))] }
        ]},
        { "type": "codeBlock", "attrs": { "language": "rust" }, "content": [text("let s = \"```\";\nfn main() {}")] },
        { "type": "blockquote", "content": [para(json!([text("quoted")]))] },
        { "type": "rule" },
        { "type": "table", "content": [
            { "type": "tableRow", "content": [
                { "type": "tableHeader", "content": [para(json!([text("a")]))] },
                { "type": "tableHeader", "content": [para(json!([text("b | c")]))] }
            ]},
            { "type": "tableRow", "content": [
                { "type": "tableCell", "content": [para(json!([text("1"), { "type": "hardBreak" }, text("2")]))] },
                { "type": "tableCell", "content": [para(json!([marked("x", json!([{ "type": "strong" }]))]))] }
            ]}
        ]},
        { "type": "panel", "attrs": { "panelType": "warning" }, "content": [
            para(json!([text("Careful")])),
            { "type": "bulletList", "content": [{ "type": "listItem", "content": [para(json!([text("step")]))] }] }
        ]},
        { "type": "expand", "attrs": { "title": "Details" }, "content": [
            para(json!([text("hidden")])),
            { "type": "panel", "attrs": { "panelType": "info" }, "content": [para(json!([text("nested")]))] }
        ]},
        { "type": "mediaSingle", "attrs": { "layout": "center" }, "content": [
            { "type": "media", "attrs": { "type": "file", "id": "9f3c-1", "collection": "", "alt": "screenshot.png" } }
        ]},
        { "type": "layoutSection", "content": [{ "type": "layoutColumn", "attrs": { "width": 50 }, "content": [para(json!([text("kept")]))] }] }
    ]});
    same_after_round_trip(&doc);
}

#[test]
fn text_that_looks_like_markup_stays_text() {
    for t in ["a*b_c`d[e]f<u>g</u>h~~i~~&amp;j!k|l#m\\n{x}", "[@Sam](accountId:x) is only text", ":::info"] {
        same_after_round_trip(&json!({ "type": "doc", "version": 1, "content": [para(json!([text(t)]))] }));
    }
    for line in ["- not a list", "1. not a list", "# not a heading", "> not a quote", "--- not a rule", ":::warning"] {
        same_after_round_trip(&json!({ "type": "doc", "version": 1, "content": [
            para(json!([text("first"), { "type": "hardBreak" }, text(line)]))
        ]}));
        same_after_round_trip(&json!({ "type": "doc", "version": 1, "content": [para(json!([text(line)]))] }));
    }
}

#[test]
fn the_loss_check_names_what_a_replacement_drops() {
    let old = from_markdown(
        ":::info\nHi [@Sam Rivera](accountId:acc-sam) and [@Dana](accountId:acc-dana)\n:::\n\n![s](attachment:7)",
    );
    assert_eq!(lost_nodes(&old, &old), Vec::<String>::new());
    let new = from_markdown("Hi [@Dana](accountId:acc-dana)");
    assert_eq!(lost_nodes(&old, &new), ["1 media", "1 mediaSingle", "1 mention (@Sam Rivera)", "1 panel"]);
    let plain_edit = from_markdown(
        ":::info\nHello [@Sam Rivera](accountId:acc-sam) and [@Dana](accountId:acc-dana)\n:::\n\n![s](attachment:7)\n\nmore",
    );
    assert!(lost_nodes(&old, &plain_edit).is_empty(), "changing the words around them loses nothing");
}

mod properties {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::{normalize, para, same_after_round_trip};
    use crate::jira::adf::{from_markdown, to_markdown};

    /// Words of letters, digits and the characters Markdown treats as markup.
    fn word() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9*_`\\[\\]<>~&!|#{}:@=+.-]{1,6}"
    }

    fn words() -> impl Strategy<Value = String> {
        prop::collection::vec(word(), 1..4).prop_map(|w| w.join(" "))
    }

    fn inline_node() -> impl Strategy<Value = Value> {
        let marks =
            prop::sample::subsequence(vec!["link", "strike", "strong", "em", "underline", "sup", "colour"], 0..3);
        prop_oneof![
            4 => (words(), marks).prop_map(|(t, marks)| {
                let marks: Vec<Value> = marks.iter().map(|m| match *m {
                    "link" => json!({ "type": "link", "attrs": { "href": "https://example.com/p" } }),
                    "sup" => json!({ "type": "subsup", "attrs": { "type": "sup" } }),
                    "colour" => json!({ "type": "textColor", "attrs": { "color": "#36b37e" } }),
                    other => json!({ "type": other }),
                }).collect();
                if marks.is_empty() { json!({ "type": "text", "text": t }) } else { json!({ "type": "text", "text": t, "marks": marks }) }
            }),
            1 => "[a-z]{1,8}".prop_map(|t| json!({ "type": "text", "text": t, "marks": [{ "type": "code" }] })),
            1 => ("[A-Z][a-z]{1,6}", "[a-z0-9-]{1,8}").prop_map(|(n, id)| json!({ "type": "mention", "attrs": { "id": id, "text": format!("@{n}") } })),
            1 => ("[A-Z]{1,8}", prop::sample::select(vec!["neutral", "red", "green", "blue"]))
                .prop_map(|(t, c)| json!({ "type": "status", "attrs": { "text": t, "color": c } })),
            1 => "[a-z_]{1,8}".prop_map(|s| json!({ "type": "emoji", "attrs": { "shortName": format!(":{s}:") } })),
            1 => (0_i64..20_000).prop_map(|d| json!({ "type": "date", "attrs": { "timestamp": (d * 86_400_000).to_string() } })),
        ]
    }

    /// Inline nodes separated by spaces, as people write them.
    fn inlines() -> impl Strategy<Value = Value> {
        prop::collection::vec(inline_node(), 1..5).prop_map(|nodes| {
            let mut out = Vec::new();
            for (i, n) in nodes.into_iter().enumerate() {
                if i > 0 {
                    out.push(json!({ "type": "text", "text": " " }));
                }
                out.push(n);
            }
            Value::Array(out)
        })
    }

    fn block() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            3 => inlines().prop_map(para),
            1 => (1_u64..7, inlines()).prop_map(|(l, c)| json!({ "type": "heading", "attrs": { "level": l }, "content": c })),
            1 => ("[a-z]{0,6}", "[a-z =;(){}\n]{1,30}").prop_filter("code needs text", |(_, c)| !c.trim().is_empty() && !c.ends_with('\n') && !c.starts_with('\n'))
                .prop_map(|(l, c)| if l.is_empty() {
                    json!({ "type": "codeBlock", "content": [{ "type": "text", "text": c }] })
                } else {
                    json!({ "type": "codeBlock", "attrs": { "language": l }, "content": [{ "type": "text", "text": c }] })
                }),
            1 => Just(json!({ "type": "rule" })),
            1 => prop::collection::vec(inlines(), 1..4).prop_map(|items| json!({ "type": "bulletList", "content":
                items.into_iter().map(|c| json!({ "type": "listItem", "content": [para(c)] })).collect::<Vec<_>>() })),
        ];
        leaf.prop_recursive(2, 12, 3, |inner| {
            prop_oneof![
                (
                    prop::sample::select(vec!["info", "note", "warning", "success", "error"]),
                    prop::collection::vec(inner.clone(), 1..3)
                )
                    .prop_map(|(t, c)| json!({ "type": "panel", "attrs": { "panelType": t }, "content": c })),
                ("[A-Z][a-z]{0,8}", prop::collection::vec(inner, 1..3))
                    .prop_map(|(t, c)| json!({ "type": "expand", "attrs": { "title": t }, "content": c })),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn adf_to_markdown_and_back_is_the_identity(blocks in prop::collection::vec(block(), 1..5)) {
            same_after_round_trip(&json!({ "type": "doc", "version": 1, "content": blocks }));
        }

        #[test]
        fn any_json_converts_without_panicking(v in arbitrary_json()) {
            let md = to_markdown(&v);
            let back = from_markdown(&md);
            prop_assert_eq!(back["type"].as_str(), Some("doc"));
            let _ = normalize(&back);
        }
    }

    /// Deep, odd, unknown-node-laden JSON.
    fn arbitrary_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            "\\PC{0,40}".prop_map(Value::String),
            (
                prop::sample::select(vec!["text", "mention", "status", "media", "panel", "weird", "table", "tableRow"]),
                "\\PC{0,20}"
            )
                .prop_map(|(t, s)| json!({ "type": t, "text": s, "attrs": { "id": s, "text": s } })),
        ];
        leaf.prop_recursive(6, 200, 6, |inner| {
            (
                prop::sample::select(vec![
                    "doc",
                    "paragraph",
                    "panel",
                    "bulletList",
                    "listItem",
                    "table",
                    "tableRow",
                    "tableCell",
                    "expand",
                    "mystery",
                ]),
                prop::collection::vec(inner, 0..6),
            )
                .prop_map(|(t, c)| json!({ "type": t, "content": c }))
        })
    }
}
