//! Reading the inline HTML that procedures may hold, with html5ever's
//! tokenizer (the WHATWG state machine browsers use), so that what procdoc
//! sees in a tag is what a browser would see: entities decoded, attribute
//! quoting and case handled, comments recognised.
//!
//! The tokens are turned into the document model by the Markdown builder;
//! nothing here is ever passed through to the output as text.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

/// The elements a procedure may contain, and which of them are blocks.
pub const ALLOWED: &[&str] = &[
    "br", "p", "ul", "ol", "li", "b", "strong", "i", "em", "u", "code", "kbd", "a",
];

/// Attributes allowed on `a`; no other element takes any.
pub const LINK_ATTRIBUTES: &[&str] = &["href", "title"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HtmlToken {
    Start {
        name: String,
        attrs: Vec<(String, String)>,
        self_closing: bool,
    },
    End {
        name: String,
    },
    Text(String),
    Comment,
    /// A doctype or anything else that has no place in a procedure.
    Other,
}

#[derive(Default)]
struct Sink {
    tokens: RefCell<Vec<HtmlToken>>,
}

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut tokens = self.tokens.borrow_mut();
        match token {
            Token::TagToken(tag) => {
                let name = tag.name.to_string();
                tokens.push(match tag.kind {
                    TagKind::StartTag => HtmlToken::Start {
                        name,
                        attrs: tag
                            .attrs
                            .iter()
                            .map(|a| (a.name.local.to_string(), a.value.to_string()))
                            .collect(),
                        self_closing: tag.self_closing,
                    },
                    TagKind::EndTag => HtmlToken::End { name },
                });
            }
            Token::CharacterTokens(text) => match tokens.last_mut() {
                Some(HtmlToken::Text(prev)) => prev.push_str(&text),
                _ => tokens.push(HtmlToken::Text(text.to_string())),
            },
            Token::CommentToken(_) => tokens.push(HtmlToken::Comment),
            Token::DoctypeToken(_) => tokens.push(HtmlToken::Other),
            Token::NullCharacterToken | Token::EOFToken | Token::ParseError(_) => {}
        }
        TokenSinkResult::Continue
    }
}

/// Tokenize a fragment of HTML.
pub fn tokenize(fragment: &str) -> Vec<HtmlToken> {
    let tokenizer = Tokenizer::new(Sink::default(), TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(fragment));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.tokens.take()
}

/// Where an attribute is written inside a tag's source, for a precise caret.
pub fn attribute_offset(tag_source: &str, attr: &str) -> Option<usize> {
    let lower = tag_source.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(attr) {
        let at = from + i;
        let before = lower[..at].chars().next_back();
        let after = lower[at + attr.len()..].chars().next();
        let boundary_before =
            before.is_some_and(|c| c.is_whitespace() || c == '/' || c == '"' || c == '\'');
        let boundary_after =
            after.is_none_or(|c| c == '=' || c.is_whitespace() || c == '>' || c == '/');
        if boundary_before && boundary_after {
            return Some(at);
        }
        from = at + attr.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_read_as_a_browser_reads_them() {
        let t = tokenize(r#"<A HREF='x?a=1&amp;b=2' onClick=alert(1)>"#);
        assert_eq!(
            t,
            vec![HtmlToken::Start {
                name: "a".into(),
                attrs: vec![
                    ("href".into(), "x?a=1&b=2".into()),
                    ("onclick".into(), "alert(1)".into())
                ],
                self_closing: false
            }]
        );
        assert_eq!(tokenize("</b >"), vec![HtmlToken::End { name: "b".into() }]);
        assert_eq!(tokenize("<!-- note -->"), vec![HtmlToken::Comment]);
        assert_eq!(
            tokenize("<br/>"),
            vec![HtmlToken::Start {
                name: "br".into(),
                attrs: vec![],
                self_closing: true
            }]
        );
    }

    #[test]
    fn attribute_positions() {
        let tag = r#"<a title="on" onclick="x">"#;
        assert_eq!(attribute_offset(tag, "onclick"), Some(14));
        assert_eq!(attribute_offset("<p style=x>", "style"), Some(3));
    }
}
