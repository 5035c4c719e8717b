//! Checks for names typed or imported by people (divisions, users, units): they are shown on
//! pages, in spreadsheets and on terminals, so invisible and control characters are refused.

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Nothing visible.
    #[error("the name is empty")]
    Empty,
    /// Over the limit.
    #[error("the name is longer than {max} characters")]
    TooLong {
        /// The limit in characters.
        max: usize,
    },
    /// Control, bidirectional-override or zero-width characters.
    #[error("the name contains an invisible or control character (U+{code:04X}); retype it")]
    Invisible {
        /// The first offending code point.
        code: u32,
    },
}

impl NameError {
    /// Stable code (also an i18n key).
    pub fn key(&self) -> &'static str {
        match self {
            NameError::Empty => "name-empty",
            NameError::TooLong { .. } => "name-too-long",
            NameError::Invisible { .. } => "name-invisible-character",
        }
    }
}

/// Whether `c` is a control character, a bidirectional embedding/override/isolate, or a
/// zero-width character (Unicode Cc; U+200B–U+200F, U+202A–U+202E, U+2060–U+2064,
/// U+2066–U+2069, U+FEFF).
pub fn is_invisible(c: char) -> bool {
    c.is_control() || matches!(c as u32, 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x2069 | 0xFEFF)
}

/// Trims a name (ASCII and full-width spaces) and checks it: not empty, at most `max`
/// characters, no invisible characters. Returns the trimmed name.
pub fn check_name(s: &str, max: usize) -> Result<String, NameError> {
    let t = s.trim_matches(|c: char| c.is_whitespace());
    if let Some(c) = t.chars().find(|c| is_invisible(*c)) {
        return Err(NameError::Invisible { code: c as u32 });
    }
    if t.is_empty() {
        return Err(NameError::Empty);
    }
    if t.chars().count() > max {
        return Err(NameError::TooLong { max });
    }
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(check_name("  桥头镇\u{3000}", 100), Ok("桥头镇".into()));
        assert_eq!(check_name("", 100), Err(NameError::Empty));
        assert_eq!(check_name(" \u{3000} ", 100), Err(NameError::Empty));
        assert_eq!(check_name("\u{200B}", 100), Err(NameError::Invisible { code: 0x200B }));
        assert_eq!(check_name("a\u{1b}[2Jb", 100), Err(NameError::Invisible { code: 0x1B }));
        assert_eq!(
            check_name("a\u{202E}b", 100),
            Err(NameError::Invisible { code: 0x202E })
        );
        assert_eq!(check_name("a\nb", 100), Err(NameError::Invisible { code: 0x0A }));
        assert_eq!(check_name("abc", 2), Err(NameError::TooLong { max: 2 }));
        assert_eq!(check_name("张三 (Zhang San)", 60), Ok("张三 (Zhang San)".into()));
    }
}
