//! Groups in the simulated directory as Exchange sees them: `ExpandDL` (direct members only;
//! a member that is itself a group is marked `PublicDL`, as a mail-enabled security group is;
//! an address that names no group answers `ErrorNameResolutionNoResults`), and membership for
//! folder rights, which is nested (the Windows token holds every group the user belongs to,
//! directly or through other groups).
//!
//! Sources (docs/FIDELITY.md): Microsoft's ExpandDL operation reference ("Recursive expansion is
//! not supported"; its error example is `ErrorNameResolutionNoResults`) and its "Expand
//! distribution groups by using EWS" article (a nested group comes back with `MailboxType`
//! `PublicDL`, to be expanded by its own call).
//! Entry points: [`expand_dl`], [`is_member`].

use std::collections::BTreeSet;

use crate::ops::Answer;
use crate::render::{self, Fill, fill};
use crate::state::SimState;
use crate::xml::{Element, MESSAGES_NS, TYPES_NS};

const EXPAND_DL_MESSAGE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/sim/templates/expand_dl_message.xml"
));
const EXPAND_DL_MAILBOX: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/sim/templates/expand_dl_mailbox.xml"
));

/// Whether `smtp` (lower-cased) is a member of `group` (lower-cased), directly or through nested
/// groups; a cycle of groups is walked once.
pub(crate) fn is_member(state: &SimState, group: &str, smtp: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut pending = vec![group.to_owned()];
    while let Some(current) = pending.pop() {
        if !seen.insert(current.clone()) {
            continue;
        }
        let Some(entry) = state.directory.get(&current) else {
            continue;
        };
        if !entry.is_group {
            continue;
        }
        for member in &entry.members {
            if member == smtp {
                return true;
            }
            pending.push(member.clone());
        }
    }
    false
}

/// Answers `ExpandDL` for `m:Mailbox/t:EmailAddress`.
pub(crate) fn expand_dl(state: &SimState, operation: &Element) -> Answer {
    let Some(address) = operation
        .child(MESSAGES_NS, "Mailbox")
        .and_then(|mailbox| mailbox.child(TYPES_NS, "EmailAddress"))
        .map(|address| address.trimmed_text().to_ascii_lowercase())
        .filter(|address| !address.is_empty())
    else {
        return Answer::fault("ErrorSchemaValidation");
    };
    let group = state.directory.get(&address).filter(|entry| entry.is_group);
    let Some(group) = group else {
        // A user, or nobody: only distribution lists expand.
        let body = render::static_message_error("ExpandDL", "ErrorNameResolutionNoResults")
            .expect("the ExpandDL fixture exists");
        return Answer::ok(body.to_owned());
    };
    let members: String = group
        .members
        .iter()
        .map(|member| {
            let entry = state.directory.get(member);
            let (name, address, kind) = match entry {
                Some(found) if found.is_group => (&found.display_name, &found.smtp, "PublicDL"),
                Some(found) => (&found.display_name, &found.smtp, "Mailbox"),
                None => (member, member, "Mailbox"),
            };
            fill(
                EXPAND_DL_MAILBOX,
                &[
                    ("NAME", Fill::Text(name)),
                    ("EMAIL_ADDRESS", Fill::Text(address)),
                    ("MAILBOX_TYPE", Fill::Text(kind)),
                ],
            )
        })
        .collect();
    let total = group.members.len().to_string();
    let message = fill(
        EXPAND_DL_MESSAGE,
        &[
            ("TOTAL", Fill::Text(&total)),
            ("MEMBERS", Fill::Xml(&members)),
        ],
    );
    Answer::ok(render::folder_response("ExpandDL", &[message]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::SoapRequest;

    const STATE: &str = r#"
[[accounts]]
username = 'CONTOSO\svc'
password = "x"
smtp = "svc@contoso.example"

[[users]]
smtp = "bob@contoso.example"
display_name = "Bob & Co"

[[groups]]
smtp = "outer@contoso.example"
display_name = "Outer"
members = ["inner@contoso.example", "bob@contoso.example"]

[[groups]]
smtp = "inner@contoso.example"
display_name = "Inner"
members = ["svc@contoso.example", "outer@contoso.example"]
"#;

    fn expand(state: &SimState, address: &str) -> Answer {
        let request = SoapRequest::parse(&format!(
            r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="{MESSAGES_NS}" xmlns:t="{TYPES_NS}"><s:Body><m:ExpandDL><m:Mailbox><t:EmailAddress>{address}</t:EmailAddress></m:Mailbox></m:ExpandDL></s:Body></s:Envelope>"#
        ))
        .unwrap();
        expand_dl(state, &request.operation)
    }

    #[test]
    fn membership_is_nested_and_a_cycle_ends() {
        let state = SimState::from_toml_str(STATE).unwrap();
        assert!(is_member(
            &state,
            "outer@contoso.example",
            "svc@contoso.example"
        ));
        assert!(is_member(
            &state,
            "inner@contoso.example",
            "bob@contoso.example"
        ));
        assert!(!is_member(
            &state,
            "outer@contoso.example",
            "carol@contoso.example"
        ));
        assert!(!is_member(
            &state,
            "bob@contoso.example",
            "svc@contoso.example"
        ));
    }

    #[test]
    fn expand_dl_lists_direct_members_and_marks_groups_public_dl() {
        let state = SimState::from_toml_str(STATE).unwrap();
        let answer = expand(&state, "OUTER@contoso.example");
        assert_eq!(answer.status, 200);
        assert!(
            answer.body.contains(r#"TotalItemsInView="2""#),
            "{}",
            answer.body
        );
        assert!(
            answer
                .body
                .contains("<t:EmailAddress>inner@contoso.example</t:EmailAddress>")
        );
        assert!(
            answer
                .body
                .contains("<t:MailboxType>PublicDL</t:MailboxType>")
        );
        assert!(answer.body.contains("<t:Name>Bob &amp; Co</t:Name>"));
        assert!(
            !answer.body.contains("svc@contoso.example"),
            "direct members only: {}",
            answer.body
        );
        for nobody in ["bob@contoso.example", "ghost@contoso.example"] {
            let answer = expand(&state, nobody);
            assert_eq!(answer.status, 200);
            assert!(
                answer.body.contains("ErrorNameResolutionNoResults"),
                "{}",
                answer.body
            );
        }
    }
}
