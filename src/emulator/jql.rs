//! A small JQL parser and evaluator for the emulator.
//!
//! Covers what the server and a person trying the demo send: AND/OR/NOT,
//! parentheses, `= != ~ !~ > >= < <=`, `IN`/`NOT IN`, `IS [NOT] EMPTY`,
//! `currentUser()`, relative dates (`-7d`) and `ORDER BY`. Errors carry Jira's
//! own wording so clients see what they would see from Jira Cloud.
//!
//! `parse` turns text into a [`Query`]; `eval` runs a query over the seeded
//! data. This root only declares and re-exports them: it must not hold logic,
//! and neither child may import it.

mod eval;
mod parse;

pub(crate) use eval::search;
pub(crate) use parse::{Query, parse};
