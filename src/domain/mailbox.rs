//! A mailbox address, validated before anything reaches Exchange (API.md, Conventions).

use std::fmt;

/// A primary SMTP address: at most 254 characters, one `@`, no whitespace, control characters,
/// `<`, `>`, `"`, `;` or `,`. Compared case-insensitively; kept as given.
#[derive(Debug, Clone)]
pub struct Mailbox(String);

/// Why a text is not a mailbox address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a mailbox address: {reason}")]
pub struct InvalidMailbox {
    pub text: String,
    pub reason: &'static str,
}

impl Mailbox {
    /// # Errors
    /// [`InvalidMailbox`] naming the rule the text breaks.
    pub fn parse(text: &str) -> Result<Mailbox, InvalidMailbox> {
        let refuse = |reason| {
            Err(InvalidMailbox {
                text: text.chars().take(300).collect(),
                reason,
            })
        };
        if text.is_empty() {
            return refuse("it is empty");
        }
        if text.len() > 254 {
            return refuse("it is longer than 254 characters");
        }
        if text.matches('@').count() != 1 {
            return refuse("it must contain exactly one @");
        }
        if text.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ';' | ',')
        }) {
            return refuse("it contains whitespace, a control character or one of < > \" ; ,");
        }
        let (local, domain) = text.split_once('@').expect("one @");
        if local.is_empty() || domain.is_empty() {
            return refuse("the parts before and after @ must not be empty");
        }
        Ok(Mailbox(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the mailbox's domain is one of `allowed_domains` (lower-case); an empty list
    /// allows every domain (`api.allowed_domains`).
    pub fn is_allowed_in(&self, allowed_domains: &[String]) -> bool {
        allowed_domains.is_empty() || allowed_domains.contains(&self.domain())
    }

    /// The domain part, lower-cased.
    pub fn domain(&self) -> String {
        self.0.rsplit('@').next().unwrap_or("").to_ascii_lowercase()
    }
}

impl PartialEq for Mailbox {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl Eq for Mailbox {}

impl fmt::Display for Mailbox {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Mailbox;

    #[test]
    fn accepts_addresses_and_compares_case_insensitively() {
        let mailbox = Mailbox::parse("S.Jansen@Uni.example").unwrap();
        assert_eq!(mailbox, Mailbox::parse("s.jansen@uni.example").unwrap());
        assert_eq!(mailbox.domain(), "uni.example");
        assert!(Mailbox::parse("o'brien&co@uni.example").is_ok());
        assert!(Mailbox::parse("zoë@uni.example").is_ok());
    }

    #[test]
    fn an_empty_allow_list_allows_every_domain() {
        let mailbox = Mailbox::parse("S.Jansen@UNI.example").unwrap();
        assert!(mailbox.is_allowed_in(&[]));
        assert!(mailbox.is_allowed_in(&["staff.example".to_owned(), "uni.example".to_owned()]));
        assert!(!mailbox.is_allowed_in(&["staff.uni.example".to_owned()]));
    }

    #[test]
    fn refuses_what_api_md_refuses() {
        for text in [
            "",
            "no-at.example",
            "two@@uni.example",
            "a b@uni.example",
            "a<b>@uni.example",
            "a\"b@uni.example",
            "a;b@uni.example",
            "a,b@uni.example",
            "tab\t@uni.example",
            "@uni.example",
            "someone@",
        ] {
            assert!(Mailbox::parse(text).is_err(), "{text:?} should be refused");
        }
        assert!(Mailbox::parse(&format!("{}@uni.example", "a".repeat(250))).is_err());
    }
}
