//! The JQL parser: text to a [`Query`], with Jira's error texts.
//!
//! It only reads the query's syntax and field names; it must not look at the
//! emulator's data or resolve values (dates are resolved when evaluating).

/// A parsed query.
#[derive(Debug, Clone)]
pub(crate) struct Query {
    pub(crate) filter: Option<Expr>,
    pub(crate) order: Vec<(String, bool)>,
}

#[derive(Debug, Clone)]
pub(crate) enum Expr {
    And(Box<Self>, Box<Self>),
    Or(Box<Self>, Box<Self>),
    Not(Box<Self>),
    Clause { field: String, op: Op, values: Vec<Value> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Like,
    NotLike,
    Gt,
    Ge,
    Lt,
    Le,
    In,
    NotIn,
    IsEmpty,
    IsNotEmpty,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Text(String),
    CurrentUser,
    /// `openSprints()`, `closedSprints()`, `futureSprints()`, lower-cased.
    Sprints(String),
}

/// Fields the emulator knows; anything else gets Jira's "does not exist" error.
pub(crate) const FIELDS: &[&str] = &[
    "project",
    "key",
    "issuekey",
    "status",
    "statuscategory",
    "assignee",
    "reporter",
    "priority",
    "type",
    "issuetype",
    "labels",
    "text",
    "summary",
    "description",
    "created",
    "updated",
    "parent",
    "sprint",
];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
}

fn lex(input: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = input.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while let Some(&c) = chars.get(i) {
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '"' | '\'' => {
                let start = i;
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            let raw: String = chars.get(start..).map(|c| c.iter().collect()).unwrap_or_default();
                            return Err(format!(
                                "Error in the JQL Query: The quoted string {raw} has not been completed. (line 1, character {})",
                                start + 1
                            ));
                        }
                        Some('\\') => {
                            if let Some(&n) = chars.get(i + 1) {
                                s.push(n);
                            }
                            i += 2;
                        }
                        Some(&q) if q == c => {
                            i += 1;
                            break;
                        }
                        Some(&other) => {
                            s.push(other);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(s));
            }
            '!' | '=' | '~' | '<' | '>' => {
                let two: String = chars.get(i..i + 2).map(|c| c.iter().collect()).unwrap_or_default();
                let op = match two.as_str() {
                    "!=" => "!=",
                    "!~" => "!~",
                    ">=" => ">=",
                    "<=" => "<=",
                    _ => match c {
                        '=' => "=",
                        '~' => "~",
                        '<' => "<",
                        '>' => ">",
                        _ => {
                            return Err(format!(
                                "Error in the JQL Query: The character '!' is a reserved JQL character. (line 1, character {})",
                                i + 1
                            ));
                        }
                    },
                };
                i += op.len();
                out.push(Tok::Op(op));
            }
            _ => {
                let mut s = String::new();
                while let Some(&ch) = chars.get(i) {
                    if ch.is_whitespace() || "()=,!~<>\"'".contains(ch) {
                        break;
                    }
                    s.push(ch);
                    i += 1;
                }
                out.push(Tok::Word(s));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    /// Current nesting of parentheses and NOT, bounded by [`MAX_NESTING`].
    depth: usize,
}

/// Longest query accepted, in characters.
const MAX_LEN: usize = 10_000;
/// Deepest nesting of parentheses and NOT accepted.
const MAX_NESTING: usize = 64;

fn describe(t: Option<&Tok>) -> String {
    match t {
        None => "the end of the query".to_owned(),
        Some(Tok::Word(w)) => format!("'{w}'"),
        Some(Tok::Str(s)) => format!("'\"{s}\"'"),
        Some(Tok::Op(o)) => format!("'{o}'"),
        Some(Tok::LParen) => "'('".to_owned(),
        Some(Tok::RParen) => "')'".to_owned(),
        Some(Tok::Comma) => "','".to_owned(),
    }
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn expect_err(&self, what: &str) -> String {
        match self.peek() {
            None => format!("Error in the JQL Query: Expecting {what} before the end of the query."),
            t => format!("Error in the JQL Query: Expecting {what} but got {}.", describe(t)),
        }
    }

    fn expr(&mut self) -> Result<Expr, String> {
        let mut left = self.term()?;
        while self.keyword("or") {
            self.pos += 1;
            let right = self.term()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, String> {
        let mut left = self.factor()?;
        while self.keyword("and") {
            self.pos += 1;
            let right = self.factor()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn factor(&mut self) -> Result<Expr, String> {
        // Recursion is bounded so a pathological query cannot overflow the stack.
        self.depth += 1;
        let result = self.factor_inner();
        self.depth -= 1;
        result
    }

    fn factor_inner(&mut self) -> Result<Expr, String> {
        if self.depth > MAX_NESTING {
            return Err("Error in the JQL Query: The query is nested too deeply.".to_owned());
        }
        if self.keyword("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.factor()?)));
        }
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let inner = self.expr()?;
            if self.next() != Some(Tok::RParen) {
                self.pos -= 1;
                return Err(self.expect_err("')'"));
            }
            return Ok(inner);
        }
        self.clause()
    }

    fn clause(&mut self) -> Result<Expr, String> {
        let Some(Tok::Word(field) | Tok::Str(field)) = self.next() else {
            self.pos -= 1;
            return Err(self.expect_err("a field name"));
        };
        let lower = field.to_ascii_lowercase();
        if !FIELDS.contains(&lower.as_str()) {
            return Err(format!("Field '{field}' does not exist or you do not have permission to view it."));
        }
        let op = match self.next() {
            Some(Tok::Op(o)) => match o {
                "=" => Op::Eq,
                "!=" => Op::Ne,
                "~" => Op::Like,
                "!~" => Op::NotLike,
                ">" => Op::Gt,
                ">=" => Op::Ge,
                "<" => Op::Lt,
                _ => Op::Le,
            },
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("in") => Op::In,
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("not") && self.keyword("in") => {
                self.pos += 1;
                Op::NotIn
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("is") => {
                let negated = self.keyword("not");
                if negated {
                    self.pos += 1;
                }
                if self.keyword("empty") || self.keyword("null") {
                    self.pos += 1;
                    return Ok(Expr::Clause {
                        field: lower,
                        op: if negated { Op::IsNotEmpty } else { Op::IsEmpty },
                        values: Vec::new(),
                    });
                }
                return Err(self.expect_err("EMPTY or NULL"));
            }
            _ => {
                self.pos -= 1;
                return Err(self.expect_err("operator"));
            }
        };
        // `in` takes a list, or a function that returns one (`sprint in openSprints()`).
        let function_list =
            matches!(self.peek(), Some(Tok::Word(_))) && self.toks.get(self.pos + 1) == Some(&Tok::LParen);
        let values = if matches!(op, Op::In | Op::NotIn) && function_list {
            vec![self.value()?]
        } else if matches!(op, Op::In | Op::NotIn) {
            if self.next() != Some(Tok::LParen) {
                self.pos -= 1;
                return Err(self.expect_err("'('"));
            }
            let mut values = vec![self.value()?];
            while self.peek() == Some(&Tok::Comma) {
                self.pos += 1;
                values.push(self.value()?);
            }
            if self.next() != Some(Tok::RParen) {
                self.pos -= 1;
                return Err(self.expect_err("')'"));
            }
            values
        } else {
            vec![self.value()?]
        };
        Ok(Expr::Clause { field: lower, op, values })
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Value::Text(s)),
            Some(Tok::Word(w)) => {
                if self.peek() == Some(&Tok::LParen) {
                    self.pos += 1;
                    if self.next() != Some(Tok::RParen) {
                        self.pos -= 1;
                        return Err(self.expect_err("')'"));
                    }
                    let lower = w.to_ascii_lowercase();
                    return if lower == "currentuser" {
                        Ok(Value::CurrentUser)
                    } else if matches!(lower.as_str(), "opensprints" | "closedsprints" | "futuresprints") {
                        Ok(Value::Sprints(lower))
                    } else {
                        Err(format!("Error in the JQL Query: Unable to find JQL function '{w}()'."))
                    };
                }
                Ok(Value::Text(w))
            }
            _ => {
                self.pos -= 1;
                Err(self.expect_err("either a value, list or function"))
            }
        }
    }
}

/// Parses JQL. `Err` holds Jira's message for a 400.
pub(crate) fn parse(input: &str) -> Result<Query, String> {
    if input.chars().count() > MAX_LEN {
        return Err(format!("The JQL query is too long: at most {MAX_LEN} characters."));
    }
    let toks = lex(input)?;
    let order_at = toks.windows(2).position(|w| {
        matches!(w, [Tok::Word(a), Tok::Word(b)] if a.eq_ignore_ascii_case("order") && b.eq_ignore_ascii_case("by"))
    });
    let (filter_toks, order_toks) = match order_at {
        Some(at) => (toks.get(..at).unwrap_or_default().to_vec(), toks.get(at + 2..).unwrap_or_default().to_vec()),
        None => (toks, Vec::new()),
    };
    let filter = if filter_toks.is_empty() {
        None
    } else {
        let mut p = Parser { toks: filter_toks, pos: 0, depth: 0 };
        let e = p.expr()?;
        if p.peek().is_some() {
            return Err(p.expect_err("either 'OR' or 'AND'"));
        }
        Some(e)
    };
    let mut order = Vec::new();
    let mut it = order_toks.into_iter().peekable();
    while let Some(t) = it.next() {
        let Tok::Word(field) = t else {
            return Err("Error in the JQL Query: Expecting a field name in ORDER BY.".to_owned());
        };
        let mut desc = false;
        if let Some(Tok::Word(d)) = it.peek()
            && (d.eq_ignore_ascii_case("desc") || d.eq_ignore_ascii_case("asc"))
        {
            desc = d.eq_ignore_ascii_case("desc");
            it.next();
        }
        order.push((field.to_ascii_lowercase(), desc));
        if matches!(it.peek(), Some(Tok::Comma)) {
            it.next();
        }
    }
    Ok(Query { filter, order })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_boolean_structure_and_order() {
        let q = parse(
            r#"project = DEMO AND (status = "In Progress" OR assignee = currentUser()) ORDER BY updated DESC, key"#,
        )
        .unwrap();
        assert!(matches!(q.filter, Some(Expr::And(..))));
        assert_eq!(q.order, vec![("updated".to_owned(), true), ("key".to_owned(), false)]);
    }

    #[test]
    fn errors_use_jira_wording() {
        assert_eq!(
            parse("project = DEMO AND (status = Done").unwrap_err(),
            "Error in the JQL Query: Expecting ')' before the end of the query."
        );
        assert_eq!(
            parse("stauts = Done").unwrap_err(),
            "Field 'stauts' does not exist or you do not have permission to view it."
        );
        assert!(parse("summary ~ \"open").unwrap_err().contains("has not been completed"));
        assert!(parse("project = DEMO status = Done").unwrap_err().contains("Expecting either 'OR' or 'AND'"));
    }

    #[test]
    fn pathological_queries_are_refused_not_a_stack_overflow() {
        let deep = format!("{}project = DEMO{}", "(".repeat(5000), ")".repeat(5000));
        assert!(
            parse(&deep).unwrap_err().contains("too long") || parse(&deep).unwrap_err().contains("nested too deeply")
        );
        let nots = format!("{}project = DEMO", "NOT ".repeat(1000));
        assert_eq!(parse(&nots).unwrap_err(), "Error in the JQL Query: The query is nested too deeply.");
        let chain = vec!["project = DEMO"; 400].join(" AND ");
        assert!(parse(&chain).is_ok(), "long flat chains within the length limit still parse");
    }

    #[test]
    fn in_lists_and_empty_checks_parse() {
        let q = parse("status in (\"To Do\", Done) AND assignee is EMPTY AND labels not in (x)").unwrap();
        assert!(q.filter.is_some());
        assert!(parse("ORDER BY key").unwrap().filter.is_none());
    }
}
