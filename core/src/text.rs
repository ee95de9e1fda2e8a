//! Bounded free text: every name, label and free-text field the hub stores passes
//! through [`Text::parse`], so nothing unbounded and no control character reaches the
//! store, the audit trail, a CSV cell or a page.
//!
//! The bounds are part of the interface (README, "Field bounds"):
//!
//! | field | kind | limit (characters) |
//! |---|---|---|
//! | a login's `account`, `terminal`; a step-up's `account`, `terminal` | [`ACCOUNT`], [`TERMINAL`] | 256 |
//! | a hub user's name, a passkey's name, a token's label | [`NAME`] | 80 |
//! | an inventory name (room, door, terminal, system, person) | [`LABEL`] | 200 |
//! | a name typed at sign-in (refused when longer, never stored longer) | [`NAME`] | 80 |
//! | a note or purpose (free text of an officer) | [`NOTE`] | 2000 |
//!
//! What is recorded about a refused request (a path in `access.denied`, a name that did
//! not sign in) is cut to [`prefix`] instead, so a hostile request can leave only a
//! bounded trace.

use std::fmt;

/// The limits of one kind of field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    /// What the field is called in error messages (`account`, `name`, …).
    pub field: &'static str,
    /// The longest value, in characters.
    pub max_chars: usize,
    /// Whether a value that is empty after trimming is refused.
    pub required: bool,
}

/// A login's or step-up's account name.
pub const ACCOUNT: Bound = Bound {
    field: "account",
    max_chars: 256,
    required: true,
};
/// A login's or step-up's terminal as the system names it.
pub const TERMINAL: Bound = Bound {
    field: "terminal",
    max_chars: 256,
    required: true,
};
/// A hub user's name, a passkey's name or a token's label.
pub const NAME: Bound = Bound {
    field: "name",
    max_chars: 80,
    required: true,
};
/// The name of a room, door, terminal, system or person in the inventory (may be empty).
pub const LABEL: Bound = Bound {
    field: "name",
    max_chars: 200,
    required: false,
};
/// A free-text note (a decision's note, a purpose).
pub const NOTE: Bound = Bound {
    field: "note",
    max_chars: 2000,
    required: false,
};

/// Why a text field was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} must be at most {max} characters (got {got})")]
    TooLong {
        field: &'static str,
        max: usize,
        got: usize,
    },
    #[error("{field} must not contain control characters (tab, newline, …)")]
    Control { field: &'static str },
}

impl TextError {
    /// The field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            TextError::Empty { field }
            | TextError::TooLong { field, .. }
            | TextError::Control { field } => field,
        }
    }
}

/// Checked text: within its bound, no control characters, trimmed of surrounding
/// whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Text(String);

impl Text {
    /// Trims `value` and checks it against `bound`.
    pub fn parse(value: &str, bound: Bound) -> Result<Text, TextError> {
        // Control characters are refused wherever they are (a trailing newline too),
        // before surrounding spaces are trimmed.
        if value.chars().any(char::is_control) {
            return Err(TextError::Control { field: bound.field });
        }
        let v = value.trim();
        if v.is_empty() && bound.required {
            return Err(TextError::Empty { field: bound.field });
        }
        // Count at most one past the limit: a 2 MiB value costs no more than that.
        let got = v.chars().take(bound.max_chars + 1).count();
        if got > bound.max_chars {
            return Err(TextError::TooLong {
                field: bound.field,
                max: bound.max_chars,
                got: v.chars().count(),
            });
        }
        Ok(Text(v.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The longest prefix kept of a value that was refused (a path, a name).
pub const PREFIX_CHARS: usize = 128;

/// At most [`PREFIX_CHARS`] characters of `value`, control characters replaced by `�`,
/// with `…` when something was cut: what the audit trail keeps of hostile input.
pub fn prefix(value: &str) -> String {
    let mut out: String = value
        .chars()
        .take(PREFIX_CHARS)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect();
    if value.chars().nth(PREFIX_CHARS).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(
            Text::parse("  佐藤  ", NAME).map(|t| t.into_string()),
            Ok("佐藤".into())
        );
        assert_eq!(
            Text::parse("   ", NAME),
            Err(TextError::Empty { field: "name" })
        );
        assert!(Text::parse("", NOTE).is_ok());
        assert!(Text::parse(&"あ".repeat(80), NAME).is_ok());
        assert_eq!(
            Text::parse(&"あ".repeat(81), NAME),
            Err(TextError::TooLong {
                field: "name",
                max: 80,
                got: 81
            })
        );
        for bad in [
            "a\nb",
            "a\tb",
            "a\u{7}b",
            "a\rb",
            "a\u{85}b",
            "ward3-pc01\n",
            "\tx",
        ] {
            assert_eq!(
                Text::parse(bad, TERMINAL),
                Err(TextError::Control { field: "terminal" }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn prefixes_are_bounded_and_printable() {
        assert_eq!(prefix("/rooms"), "/rooms");
        let long = "x".repeat(2 * 1024 * 1024);
        let p = prefix(&long);
        assert_eq!(p.chars().count(), PREFIX_CHARS + 1);
        assert!(p.ends_with('…'));
        assert_eq!(prefix("a\nb"), "a\u{FFFD}b");
        assert_eq!(prefix(&"x".repeat(PREFIX_CHARS)), "x".repeat(PREFIX_CHARS));
    }
}
