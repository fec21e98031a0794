//! Token counting: OpenAI's o200k_base BPE, an approximation of the model's own
//! tokenizer (Anthropic's is not public); every report says so. Loaded once,
//! on the telemetry thread, never on a tool call's path.

use std::sync::LazyLock;

/// The encoding, or `None` if it could not be built (then bytes / 4 stands in).
static BPE: LazyLock<Option<tiktoken_rs::CoreBPE>> = LazyLock::new(|| tiktoken_rs::o200k_base().ok());

/// Tokens of `text` in o200k_base.
#[must_use]
pub(crate) fn tokens(text: &str) -> u64 {
    match BPE.as_ref() {
        Some(bpe) => bpe.encode_ordinary(text).len() as u64,
        None => text.len().div_ceil(4) as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_strings_have_their_o200k_counts() {
        assert!(BPE.is_some(), "the o200k_base encoding loads");
        assert_eq!(tokens(""), 0);
        assert_eq!(tokens("hello world"), 2);
        // The compact search line format: keys, separators and dates split as o200k does.
        assert_eq!(tokens("DEMO-12 | Login page times out | In Progress | Sam Rivera | High | 2026-11-20"), 25);
        // 1000 words and the last trailing space on its own.
        assert_eq!(tokens(&"word ".repeat(1000)), 1001);
    }
}
