//! One line for an error and its causes: the text of logs, problem details, audit details and
//! doctor findings.
//!
//! Invariant: each cause is stated once. A cause whose text the line already holds (an error
//! whose message prints its source, `#[error("connect: {0}")]`) is left out; every other cause
//! follows after `": "`, outermost first. Nothing here reads beyond `Display`, and no error of
//! ours puts a secret or XML in its `Display` (ARCHITECTURE.md, "Errors"), so the line is safe to
//! log and show.

use std::error::Error;

/// The error and its sources, joined with `": "`, each cause stated once.
pub fn display(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::display;

    /// Prints its source in its own message, as `#[error("...: {0}")]` does.
    #[derive(Debug, thiserror::Error)]
    #[error("connection to mail.contoso.example:443 failed: tcp connect: {0}")]
    struct Repeats(#[source] std::io::Error);

    /// Keeps its source apart, as `#[error("...")]` with `#[source]` does.
    #[derive(Debug, thiserror::Error)]
    #[error("exchange still failed after 3 attempts")]
    struct Wraps(#[source] Repeats);

    #[derive(Debug, thiserror::Error)]
    #[error("audit log unavailable")]
    struct Apart(#[source] std::io::Error);

    fn refused() -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused")
    }

    #[test]
    fn a_cause_the_message_already_prints_is_not_repeated() {
        assert_eq!(
            display(&Repeats(refused())),
            "connection to mail.contoso.example:443 failed: tcp connect: refused"
        );
        assert_eq!(
            display(&Wraps(Repeats(refused()))),
            "exchange still failed after 3 attempts: connection to mail.contoso.example:443 failed: tcp connect: refused"
        );
    }

    #[test]
    fn causes_kept_apart_follow_outermost_first() {
        let denied = || {
            std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "permission denied (os error 13)",
            )
        };
        assert_eq!(
            display(&Apart(denied())),
            "audit log unavailable: permission denied (os error 13)"
        );
        // `io::Error::other` prints exactly what it wraps: the same text twice is stated once.
        assert_eq!(
            display(&std::io::Error::other(Apart(denied()))),
            "audit log unavailable: permission denied (os error 13)"
        );
        assert_eq!(display(&refused()), "refused");
    }
}
