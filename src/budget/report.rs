//! `jira-mcp budget report`: the recorded history turned into per-tool token
//! figures, how often each cap cut and was followed up, and a recommended value
//! for each tunable cap (the one that minimises the expected tokens per call,
//! counting the follow-up calls a tighter cap causes).
//!
//! How many follow-ups a cap causes is modelled, not assumed constant: the detail a
//! model needs from a cut text is equally likely anywhere in it, so a cut that hides
//! a fraction `h` of the text is fetched again with probability `need × h`. `need`
//! is estimated from the follow-ups seen at the current cap; a tighter cap hides
//! more and is priced with more follow-ups.

use std::{collections::BTreeMap, fmt::Write as _, path::Path};

use serde::Serialize;

use super::{Cap, store::Row};
use crate::limits::{ATTACHMENT_CHARS, Bounds, COMMENTS, DESCRIPTION_CHARS, PAGE_SIZE, Tunables};

/// How many later calls of the same session may count as a follow-up.
const FOLLOW_WINDOW: usize = 5;
/// Tokens a call costs beyond its result: the model's own tool-call message (name,
/// arguments) and the turn around it. A follow-up call pays it again, so caps are
/// not tuned into many small round trips.
const CALL_TOKENS: f64 = 60.0;

/// Least expected saving for recommending a lower cap: a lower cap adds round trips (latency, a model turn)
/// that tokens do not show, and the simulated week put the model's error near 2% (a predicted 1.4% saving
/// for a 1000-character description measured 1% worse).
const MIN_GAIN_LOWER: f64 = 0.03;
/// Least expected saving for recommending a higher cap, which removes round trips.
const MIN_GAIN_RAISE: f64 = 0.01;

/// Fewest calls at a cap's default before the report recommends changing it.
const MIN_OBSERVATIONS: usize = 20;

/// Per-tool figures.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ToolStats {
    pub tool: String,
    pub calls: usize,
    pub tokens_p50: u64,
    pub tokens_p95: u64,
    pub tokens_max: u64,
    pub tokens_total: u64,
    pub jira_requests_per_call: f64,
    pub errors: usize,
}

/// How often a cap applied, cut, and was followed by a call fetching more.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CapStats {
    pub cap: String,
    pub applied: usize,
    pub cut: usize,
    pub followed_up: usize,
}

/// A recommended value for a tunable cap.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Recommendation {
    pub cap: String,
    /// The environment variable that sets it.
    pub variable: String,
    pub current: u32,
    pub recommended: u32,
    /// Expected tokens per call that the cap applies to, now and with the recommendation.
    pub tokens_per_call_now: f64,
    pub tokens_per_call_recommended: f64,
    pub reasoning: String,
}

/// The whole report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub tokenizer: &'static str,
    pub calls: usize,
    pub sessions: usize,
    pub tokens_total: u64,
    pub tokens_per_session: f64,
    pub tools: Vec<ToolStats>,
    pub caps: Vec<CapStats>,
    pub errors: BTreeMap<String, usize>,
    pub recommendations: Vec<Recommendation>,
}

/// Reads the history at `path` since `since_ms` and builds the report.
///
/// # Errors
/// When the database cannot be opened or read.
pub fn from_database(path: &Path, since_ms: i64, current: &Tunables) -> Result<Report, super::Error> {
    let store = super::store::Store::open_read_only(path)?;
    Ok(build(&store.calls_since(since_ms)?, current))
}

/// The size argument of a cap, if the caller can raise it.
fn size_arg(cap: Cap) -> Option<&'static str> {
    match cap {
        Cap::Description => Some("description_max_chars"),
        Cap::Comments => Some("max_comments"),
        Cap::Page => Some("page_size"),
        Cap::AttachmentText => Some("max_chars"),
        Cap::Scan => Some("max_issues"),
        Cap::Image | Cap::RunOutput => None,
    }
}

fn size_of(row: &Row, name: &str) -> Option<u64> {
    row.sizes.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
}

/// Whether a cut (`shown` of `total`) left something out.
fn was_cut(cut: &super::Cut) -> bool {
    cut.total.is_none_or(|t| t > cut.shown)
}

/// Whether `later` fetched more of what `cap` cut in `row`: the same tool and
/// target, with the next page (Page) or a larger size argument (the others).
fn follows_up(row: &Row, later: &Row, cap: Cap, shown: u64) -> bool {
    if later.tool != row.tool || later.target.is_none() || later.target != row.target {
        return false;
    }
    match cap {
        Cap::Page => later.cursor,
        _ => size_arg(cap).and_then(|a| size_of(later, a)).is_some_and(|v| v > shown),
    }
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.saturating_sub(1).min(sorted.len() - 1)).copied().unwrap_or(0)
}

/// Builds the report from rows in time order.
#[must_use]
pub fn build(rows: &[Row], current: &Tunables) -> Report {
    let mut by_session: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        by_session.entry(r.session.as_str()).or_default().push(r);
    }
    let mut tools: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        tools.entry(r.tool.as_str()).or_default().push(r);
    }
    let tool_stats = tools
        .iter()
        .map(|(tool, rs)| {
            let mut tokens: Vec<u64> = rs.iter().map(|r| r.tokens + r.image_tokens).collect();
            tokens.sort_unstable();
            ToolStats {
                tool: (*tool).to_owned(),
                calls: rs.len(),
                tokens_p50: percentile(&tokens, 50.0),
                tokens_p95: percentile(&tokens, 95.0),
                tokens_max: tokens.last().copied().unwrap_or(0),
                tokens_total: tokens.iter().sum(),
                jira_requests_per_call: rs.iter().map(|r| f64::from(r.jira_requests)).sum::<f64>() / rs.len() as f64,
                errors: rs.iter().filter(|r| r.outcome != "ok").count(),
            }
        })
        .collect();
    // Cap figures and, per cap, the observations the recommendations need.
    let mut caps: BTreeMap<Cap, CapStats> = BTreeMap::new();
    let mut observations: BTreeMap<Cap, Vec<Observation>> = BTreeMap::new();
    for calls in by_session.values() {
        for (i, row) in calls.iter().enumerate() {
            for cut in &row.cuts {
                let Some(cap) = Cap::from_name(&cut.cap) else { continue };
                let stats = caps.entry(cap).or_insert_with(|| CapStats {
                    cap: cap.name().to_owned(),
                    applied: 0,
                    cut: 0,
                    followed_up: 0,
                });
                stats.applied += 1;
                let cut_here = was_cut(cut);
                let followed = cut_here
                    && calls.iter().skip(i + 1).take(FOLLOW_WINDOW).any(|later| follows_up(row, later, cap, cut.shown));
                if cut_here {
                    stats.cut += 1;
                }
                if followed {
                    stats.followed_up += 1;
                }
                let defaulted = size_arg(cap).is_none_or(|a| size_of(row, a).is_none());
                if defaulted && cut.shown > 0 {
                    observations.entry(cap).or_default().push(Observation {
                        tokens: (row.tokens + row.image_tokens) as f64,
                        bytes: row.bytes.max(1) as f64,
                        shown: cut.shown,
                        total: cut.total,
                        shown_bytes: cut.shown_bytes,
                        followed,
                    });
                }
            }
        }
    }
    let mut errors = BTreeMap::new();
    for r in rows.iter().filter(|r| r.outcome != "ok") {
        let kind = r.outcome.strip_prefix("error:").unwrap_or(&r.outcome).to_owned();
        *errors.entry(kind).or_insert(0) += 1;
    }
    let tunable = [
        (Cap::Description, "JIRA_MCP_DESCRIPTION_CHARS", DESCRIPTION_CHARS, current.description_chars),
        (Cap::Comments, "JIRA_MCP_COMMENTS", COMMENTS, current.comments),
        (Cap::Page, "JIRA_MCP_PAGE_SIZE", PAGE_SIZE, current.page_size),
        (Cap::AttachmentText, "JIRA_MCP_ATTACHMENT_CHARS", ATTACHMENT_CHARS, current.attachment_chars),
    ];
    let recommendations = tunable
        .iter()
        .filter_map(|(cap, var, bounds, now)| {
            recommend(*cap, var, *bounds, *now, observations.get(cap).map_or(&[][..], Vec::as_slice))
        })
        .collect();
    let tokens_total: u64 = rows.iter().map(|r| r.tokens + r.image_tokens).sum();
    Report {
        tokenizer: "o200k_base (an approximation of the model's own tokenizer)",
        calls: rows.len(),
        sessions: by_session.len(),
        tokens_total,
        tokens_per_session: if by_session.is_empty() { 0.0 } else { tokens_total as f64 / by_session.len() as f64 },
        tools: tool_stats,
        caps: caps.into_values().collect(),
        errors,
        recommendations,
    }
}

/// One call where a tunable cap applied at its default.
#[derive(Debug, Clone)]
struct Observation {
    tokens: f64,
    bytes: f64,
    shown: u64,
    total: Option<u64>,
    shown_bytes: u64,
    followed: bool,
}

impl Observation {
    /// Tokens one unit (a character, a comment, an issue line) costs in this call.
    fn unit_tokens(&self) -> f64 {
        (self.shown_bytes as f64 / self.shown.max(1) as f64) * (self.tokens / self.bytes)
    }

    /// The share of the whole that a cap of `v` units hides (half when the whole is unknown).
    fn hidden(&self, v: u64) -> f64 {
        match self.total {
            Some(total) if total > v => (total - v) as f64 / total as f64,
            Some(_) => 0.0,
            None => 0.5,
        }
    }
}

/// Expected tokens of the calls in `obs` had the cap been `v`: each shows
/// min(total, v) units; one cut at `v` is followed, with probability `need` × the share it
/// hides, by a call that shows all of it; every call also costs [`CALL_TOKENS`]. Paged results (total unknown) are
/// priced as the pages needed to read what the session read.
fn expected_tokens(obs: &[Observation], v: u64, need: f64, paged: bool) -> f64 {
    obs.iter()
        .map(|o| {
            let u = o.unit_tokens();
            let overhead = (o.tokens - o.shown as f64 * u).max(0.0);
            if paged {
                // Units the session read: this page, plus one more page if it followed the cursor.
                let read = o.shown + if o.followed { o.shown } else { 0 };
                let pages = read.div_ceil(v.max(1));
                return pages as f64 * (CALL_TOKENS + overhead) + (pages * v).min(read.max(v)) as f64 * u;
            }
            let total = o.total.unwrap_or(o.shown);
            let first = CALL_TOKENS + overhead + total.min(v) as f64 * u;
            if total > v { first + need * o.hidden(v) * (CALL_TOKENS + overhead + total as f64 * u) } else { first }
        })
        .sum::<f64>()
        / obs.len().max(1) as f64
}

fn candidates(bounds: Bounds, now: u32) -> Vec<u32> {
    let mut c: Vec<u32> = [0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0]
        .iter()
        .map(|f| ((f64::from(now) * f).round() as u32).clamp(bounds.min, bounds.max))
        .collect();
    c.sort_unstable();
    c.dedup();
    c
}

/// Whether moving a cap from `now` to `v` saves enough to recommend (ties keep the current value).
fn clears_the_bar(now: u32, v: u32, cost_now: f64, cost: f64) -> bool {
    let gain = if v < now { MIN_GAIN_LOWER } else { MIN_GAIN_RAISE };
    v != now && cost < cost_now * (1.0 - gain)
}

fn recommend(cap: Cap, var: &str, bounds: Bounds, now: u32, obs: &[Observation]) -> Option<Recommendation> {
    let arg = size_arg(cap)?;
    if obs.is_empty() {
        return None;
    }
    let paged = cap == Cap::Page;
    let cut = obs.iter().filter(|o| o.total.is_none_or(|t| t > o.shown)).count();
    let followed = obs.iter().filter(|o| o.followed).count();
    // How often the hidden part is needed, from the follow-ups at the current cap (Laplace's rule over the hidden
    // shares: a few cuts never followed up do not prove nobody needs the rest).
    let hidden: f64 = obs.iter().map(|o| o.hidden(u64::from(now))).sum();
    let need = ((followed as f64 + 1.0) / (hidden + 2.0)).min(1.0);
    let cost_now = expected_tokens(obs, u64::from(now), need, paged);
    let enough = obs.len() >= MIN_OBSERVATIONS;
    let (best, cost_best) = candidates(bounds, now)
        .into_iter()
        .filter(|_| enough)
        .map(|v| (v, expected_tokens(obs, u64::from(v), need, paged)))
        .filter(|&(v, c)| clears_the_bar(now, v, cost_now, c))
        .fold((now, cost_now), |(bv, bc), (v, c)| if c < bc { (v, c) } else { (bv, bc) });
    let share = |n: usize| 100.0 * n as f64 / obs.len() as f64;
    let keep = if !enough {
        format!(" (keep: fewer than {MIN_OBSERVATIONS} calls to judge)")
    } else if best == now {
        format!(
            " (keep: a lower value must save {:.0}%, a higher {:.0}%)",
            MIN_GAIN_LOWER * 100.0,
            MIN_GAIN_RAISE * 100.0
        )
    } else {
        String::new()
    };
    let reasoning = format!(
        "{arg}: {:.0}% of {} calls were cut at {now} and {followed} of those {cut} were fetched again; expected \
         {:.0} → {:.0} tokens per call at {best}{keep}",
        share(cut),
        obs.len(),
        cost_now,
        cost_best,
    );
    Some(Recommendation {
        cap: cap.name().to_owned(),
        variable: var.to_owned(),
        current: now,
        recommended: best,
        tokens_per_call_now: cost_now,
        tokens_per_call_recommended: cost_best,
        reasoning,
    })
}

/// The report as text for a terminal.
#[must_use]
pub fn render(r: &Report, since: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "jira-mcp budget report since {since}: {} calls in {} sessions, {} tokens ({:.0} per session)\n\
         tokens: {}\n",
        r.calls, r.sessions, r.tokens_total, r.tokens_per_session, r.tokenizer
    );
    let _ = writeln!(
        out,
        "{:<18} {:>6} {:>8} {:>8} {:>8} {:>10} {:>7}",
        "tool", "calls", "p50 tok", "p95 tok", "max tok", "jira/call", "errors"
    );
    for t in &r.tools {
        let _ = writeln!(
            out,
            "{:<18} {:>6} {:>8} {:>8} {:>8} {:>10.1} {:>7}",
            t.tool, t.calls, t.tokens_p50, t.tokens_p95, t.tokens_max, t.jira_requests_per_call, t.errors
        );
    }
    let _ = writeln!(out, "\n{:<16} {:>8} {:>6} {:>7} {:>12}", "cap", "applied", "cut", "cut %", "followed up");
    for c in &r.caps {
        let pct = if c.applied == 0 { 0.0 } else { 100.0 * c.cut as f64 / c.applied as f64 };
        let fol = if c.cut == 0 { 0.0 } else { 100.0 * c.followed_up as f64 / c.cut as f64 };
        let _ = writeln!(
            out,
            "{:<16} {:>8} {:>6} {:>6.1}% {:>6} ({:>3.0}%)",
            c.cap, c.applied, c.cut, pct, c.followed_up, fol
        );
    }
    if let Some(page) = r.caps.iter().find(|c| c.cap == Cap::Page.name()) {
        let _ = writeln!(
            out,
            "\npaging: {} pages ended with MORE AVAILABLE, {} were followed with the cursor",
            page.cut, page.followed_up
        );
    }
    if !r.errors.is_empty() {
        let list: Vec<String> = r.errors.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let _ = writeln!(out, "errors by kind: {}", list.join(", "));
    }
    let _ = writeln!(out, "\nrecommendations (set the variable, restart the server):");
    if r.recommendations.is_empty() {
        let _ = writeln!(out, "- none yet: no call hit a tunable cap at its default");
    }
    for rec in &r.recommendations {
        let _ = writeln!(out, "- {}={} ({})", rec.variable, rec.recommended, rec.reasoning);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::Cut;

    fn row(
        session: &str,
        tool: &str,
        tokens: u64,
        sizes: &[(&str, u64)],
        cut: Option<(Cap, u64, Option<u64>, u64)>,
    ) -> Row {
        Row {
            at_ms: 0,
            session: session.to_owned(),
            tool: tool.to_owned(),
            outcome: "ok".to_owned(),
            duration_ms: 1.0,
            jira_requests: 1,
            bytes: tokens * 4,
            tokens,
            image_tokens: 0,
            sizes: sizes.iter().map(|(n, v)| ((*n).to_owned(), *v)).collect(),
            include: None,
            cursor: false,
            target: Some(format!("{session}-t")),
            cuts: cut
                .map(|(cap, shown, total, shown_bytes)| Cut { cap: cap.name().to_owned(), shown, total, shown_bytes })
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn a_cap_that_is_cut_and_always_fetched_again_is_raised() {
        // 20 sessions: get_issue cut at 4000 of 6000 characters, then fetched again with 50000.
        let mut rows = Vec::new();
        for s in 0..20 {
            let id = format!("s{s}");
            rows.push(row(&id, "get_issue", 1200, &[], Some((Cap::Description, 4000, Some(6000), 4000))));
            rows.push(row(
                &id,
                "get_issue",
                1700,
                &[("description_max_chars", 50000)],
                Some((Cap::Description, 6000, Some(6000), 6000)),
            ));
        }
        let report = build(&rows, &Tunables::default());
        let cap = report.caps.iter().find(|c| c.cap == "description").unwrap();
        assert_eq!((cap.applied, cap.cut, cap.followed_up), (40, 20, 20));
        let rec = report.recommendations.iter().find(|r| r.cap == "description").unwrap();
        assert_eq!(rec.current, 4000);
        assert_eq!(rec.recommended, 6000, "{rec:?}");
        assert!(rec.tokens_per_call_recommended < rec.tokens_per_call_now, "{rec:?}");
        assert!(
            rec.reasoning.starts_with(
                "description_max_chars: 100% of 20 calls were cut at 4000 and 20 of those 20 were fetched again"
            ),
            "{}",
            rec.reasoning
        );
    }

    #[test]
    fn a_cap_that_never_cuts_is_lowered_only_when_the_content_is_short_and_never_fetched_again() {
        // Descriptions of 500 characters, never cut: a 1000 cap would cost nothing more.
        let rows: Vec<Row> = (0..30)
            .map(|s| row(&format!("s{s}"), "get_issue", 400, &[], Some((Cap::Description, 500, Some(500), 500))))
            .collect();
        let rec =
            build(&rows, &Tunables::default()).recommendations.into_iter().find(|r| r.cap == "description").unwrap();
        assert_eq!(rec.recommended, 4000, "nothing is gained by a lower cap on short text: {rec:?}");
        assert!(rec.reasoning.ends_with("(keep: a lower value must save 3%, a higher 1%)"), "{}", rec.reasoning);
    }

    #[test]
    fn a_tighter_cap_is_priced_with_the_follow_ups_it_causes() {
        // One description of 8000 characters, cut at 4000: a cap of 1000 hides 7/8 of it instead of 1/2.
        let obs = [Observation {
            tokens: 1100.0,
            bytes: 4400.0,
            shown: 4000,
            total: Some(8000),
            shown_bytes: 4000,
            followed: false,
        }];
        let first_read = |v: u64| CALL_TOKENS + 100.0 + v as f64 * obs[0].unit_tokens();
        let follow_ups = |v: u64| expected_tokens(&obs, v, 0.5, false) - first_read(v);
        assert!(
            (follow_ups(1000) / follow_ups(4000) - 1.75).abs() < 1e-9,
            "{} vs {}",
            follow_ups(1000),
            follow_ups(4000)
        );
        assert_eq!(follow_ups(8000), 0.0, "nothing hidden, nothing fetched again");
    }

    #[test]
    fn lowering_a_cap_needs_a_larger_saving_than_raising_it() {
        assert!(!clears_the_bar(4000, 1000, 100.0, 98.0), "2% is within the model's error for a lower cap");
        assert!(clears_the_bar(4000, 1000, 100.0, 96.0));
        assert!(clears_the_bar(5, 15, 100.0, 98.0), "a higher cap also saves round trips");
        assert!(!clears_the_bar(5, 15, 100.0, 99.5));
        assert!(!clears_the_bar(5, 5, 100.0, 50.0), "the current value is no change");
    }

    #[test]
    fn too_few_calls_change_nothing() {
        let rows: Vec<Row> = (0..5)
            .map(|s| row(&format!("s{s}"), "get_issue", 1200, &[], Some((Cap::Description, 4000, Some(9000), 4000))))
            .collect();
        let rec = build(&rows, &Tunables::default()).recommendations.into_iter().next().unwrap();
        assert_eq!(rec.recommended, rec.current);
        assert!(rec.reasoning.ends_with("(keep: fewer than 20 calls to judge)"), "{}", rec.reasoning);
    }

    #[test]
    fn follow_ups_need_the_same_target_and_a_larger_size() {
        let cut = Some((Cap::Description, 4000, Some(9000), 4000));
        let first = row("s", "get_issue", 1000, &[], cut);
        let mut other = row("s", "get_issue", 1000, &[("description_max_chars", 50000)], None);
        other.target = Some("elsewhere".to_owned());
        let report = build(&[first.clone(), other], &Tunables::default());
        assert_eq!(report.caps[0].followed_up, 0, "another issue is not a follow-up");
        let same_size = row("s", "get_issue", 1000, &[("description_max_chars", 4000)], None);
        assert_eq!(build(&[first.clone(), same_size], &Tunables::default()).caps[0].followed_up, 0);
        let more = row("s", "get_issue", 1000, &[("description_max_chars", 9000)], None);
        assert_eq!(build(&[first, more], &Tunables::default()).caps[0].followed_up, 1);
    }

    #[test]
    fn per_tool_figures_and_errors_are_counted() {
        let mut rows = vec![row("a", "search_issues", 100, &[], None), row("a", "search_issues", 300, &[], None)];
        let mut failed = row("a", "get_issue", 50, &[], None);
        failed.outcome = "error:jira".to_owned();
        rows.push(failed);
        let report = build(&rows, &Tunables::default());
        let search = report.tools.iter().find(|t| t.tool == "search_issues").unwrap();
        assert_eq!((search.calls, search.tokens_p50, search.tokens_max, search.tokens_total), (2, 100, 300, 400));
        assert_eq!(report.errors.get("jira"), Some(&1));
        assert_eq!(report.sessions, 1);
        let text = render(&report, "7d");
        assert!(text.contains("tokens: o200k_base (an approximation of the model's own tokenizer)"), "{text}");
        assert!(text.contains("errors by kind: jira 1"), "{text}");
    }
}
