//! Fills the simulator's response templates (`fixtures/sim/templates/*.xml`, embedded with
//! `include_str!` so the binary works from any directory).
//!
//! Invariants: every response body is a template's bytes with `{{NAME}}` placeholders replaced;
//! every substituted value is XML-escaped unless it is itself a rendered template fragment
//! ([`Fill::Xml`]); nothing here uses the `ews` module's serializer.
//! Static error answers (one per-message error, or a SOAP fault) are the bytes of the
//! `fixtures/ews/<operation>/<case>.xml` files where one exists ([`static_message_error`],
//! [`soap_fault`]); the templates cover every other case.
//! Entry types: [`Fill`], [`RenderedUser`], [`RenderedPermission`], [`DelegateMessage`].

use crate::state::{ItemScope, PermissionFlags, ReadScope};

/// A template of `fixtures/sim/templates/`, embedded.
macro_rules! template {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/sim/templates/",
            $name
        ))
    };
}
pub(crate) use template;

const FOLDER_RESPONSE: &str = template!("folder_response.xml");
macro_rules! ews_fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/ews/",
            $name
        ))
    };
}

/// The `fixtures/ews` answer for an operation whose only response message is the error `code`.
///
/// GetDelegate is absent on purpose: its answer carries the mailbox's own
/// `DeliverMeetingRequests`, which a static file cannot know.
pub(crate) fn static_message_error(operation: &str, code: &str) -> Option<&'static str> {
    Some(match (operation, code) {
        ("GetFolder", "ErrorAccessDenied") => ews_fixture!("get_folder/error_access_denied.xml"),
        ("GetFolder", "ErrorFolderNotFound") => {
            ews_fixture!("get_folder/error_folder_not_found.xml")
        }
        ("GetFolder", "ErrorMailboxMoveInProgress") => {
            ews_fixture!("get_folder/error_mailbox_move_in_progress.xml")
        }
        ("GetFolder", "ErrorMailboxStoreUnavailable") => {
            ews_fixture!("get_folder/error_mailbox_store_unavailable.xml")
        }
        ("GetFolder", "ErrorNonExistentMailbox") => {
            ews_fixture!("get_folder/error_non_existent_mailbox.xml")
        }
        ("ExpandDL", "ErrorNameResolutionNoResults") => {
            ews_fixture!("expand_dl/error_name_resolution_no_results.xml")
        }
        ("UpdateFolder", "ErrorAccessDenied") => {
            ews_fixture!("update_folder/error_access_denied.xml")
        }
        ("UpdateFolder", "ErrorInvalidPermissionSettings") => {
            ews_fixture!("update_folder/error_invalid_permission_settings.xml")
        }
        ("UpdateFolder", "ErrorIrresolvableConflict") => {
            ews_fixture!("update_folder/error_irresolvable_conflict.xml")
        }
        ("AddDelegate", "ErrorDelegateAlreadyExists") => {
            ews_fixture!("add_delegate/error_delegate_already_exists.xml")
        }
        ("AddDelegate", "ErrorDelegateNoUser") => {
            ews_fixture!("add_delegate/error_delegate_no_user.xml")
        }
        ("UpdateDelegate", "ErrorNotDelegate") => {
            ews_fixture!("update_delegate/error_not_delegate.xml")
        }
        ("RemoveDelegate", "ErrorNotDelegate") => {
            ews_fixture!("remove_delegate/error_not_delegate.xml")
        }
        _ => return None,
    })
}

/// The `fixtures/ews/soap_fault` file for a fault code, if one exists.
fn static_fault(code: &str) -> Option<&'static str> {
    Some(match code {
        "ErrorImpersonateUserDenied" => {
            ews_fixture!("soap_fault/error_impersonate_user_denied.xml")
        }
        "ErrorImpersonationDenied" => ews_fixture!("soap_fault/error_impersonation_denied.xml"),
        "ErrorInternalServerError" => ews_fixture!("soap_fault/error_internal_server_error.xml"),
        "ErrorInvalidServerVersion" => ews_fixture!("soap_fault/error_invalid_server_version.xml"),
        "ErrorNonExistentMailbox" => ews_fixture!("soap_fault/error_non_existent_mailbox.xml"),
        "ErrorSchemaValidation" => ews_fixture!("soap_fault/error_schema_validation.xml"),
        "ErrorServerBusy" => ews_fixture!("soap_fault/error_server_busy.xml"),
        _ => return None,
    })
}

/// Replaces the text of `<t:Value Name="BackOffMilliseconds">` in a fixture.
fn with_back_off(fixture: &str, back_off_ms: u64) -> Option<String> {
    const OPEN: &str = "<t:Value Name=\"BackOffMilliseconds\">";
    let start = fixture.find(OPEN)? + OPEN.len();
    let end = start + fixture[start..].find('<')?;
    Some(format!(
        "{}{back_off_ms}{}",
        &fixture[..start],
        &fixture[end..]
    ))
}

const GET_FOLDER_MESSAGE: &str = template!("get_folder_message.xml");
const UPDATE_FOLDER_MESSAGE: &str = template!("update_folder_message.xml");
const ERROR_MESSAGE: &str = template!("error_message.xml");
const EFFECTIVE_RIGHTS: &str = template!("effective_rights.xml");
const PERMISSION_SET: &str = template!("permission_set.xml");
const CALENDAR_PERMISSION: &str = template!("calendar_permission.xml");
const USER_ID_USER: &str = template!("user_id_user.xml");
const USER_ID_DISTINGUISHED: &str = template!("user_id_distinguished.xml");
const USER_ID_SID: &str = template!("user_id_sid.xml");
const USER_ID_EXTERNAL: &str = template!("user_id_external.xml");
const USER_ID_EMPTY: &str = template!("user_id_empty.xml");
const UNKNOWN_ENTRIES: &str = template!("unknown_entries.xml");
const UNKNOWN_ENTRY: &str = template!("unknown_entry.xml");
const DELEGATE_RESPONSE: &str = template!("delegate_response.xml");
const DELEGATE_OUTER_ERROR: &str = template!("delegate_outer_error.xml");
const DELEGATE_RESPONSE_MESSAGES: &str = template!("delegate_response_messages.xml");
const DELIVER_MEETING_REQUESTS: &str = template!("deliver_meeting_requests.xml");
const DELEGATE_MESSAGE_SUCCESS: &str = template!("delegate_message_success.xml");
const DELEGATE_MESSAGE_ERROR: &str = template!("delegate_message_error.xml");
const DELEGATE_USER: &str = template!("delegate_user.xml");
const DELEGATE_PERMISSIONS: &str = template!("delegate_permissions.xml");
const DELEGATE_PERMISSION_LEVEL: &str = template!("delegate_permission_level.xml");
const SOAP_FAULT: &str = template!("soap_fault.xml");
const BACK_OFF_MESSAGE_XML: &str = template!("back_off_message_xml.xml");
pub(crate) const MESSAGE_ERROR_VALUE: &str = template!("message_error_value.xml");
const MESSAGE_XML_VALUE: &str = template!("message_xml_value.xml");
const EXCEEDED_CONNECTION_COUNT_MESSAGE_XML: &str =
    template!("exceeded_connection_count_message_xml.xml");

/// A value for one placeholder.
pub(crate) enum Fill<'a> {
    /// Plain text: escaped before substitution.
    Text(&'a str),
    /// A rendered fragment: substituted as is.
    Xml(&'a str),
}

/// Replaces every `{{NAME}}` of `template` by its value.
///
/// # Panics
/// When a placeholder has no value: that is a bug in this file, caught by the tests that render
/// every template.
pub(crate) fn fill(template: &str, values: &[(&str, Fill<'_>)]) -> String {
    let mut output = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        output.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .expect("unterminated placeholder in a sim template");
        let name = &after[..end];
        let value = values
            .iter()
            .find(|(key, _)| *key == name)
            .unwrap_or_else(|| panic!("no value for placeholder {name}"));
        match &value.1 {
            Fill::Text(text) => output.push_str(&escape(text)),
            Fill::Xml(xml) => output.push_str(xml),
        }
        rest = &after[end + 2..];
    }
    output.push_str(rest);
    output
}

/// XML-escapes text for element content and double-quoted attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '&' => escaped.push_str("&amp;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            other => escaped.push(other),
        }
    }
    escaped
}

fn boolean(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

fn item_scope(scope: ItemScope) -> &'static str {
    match scope {
        ItemScope::None => "None",
        ItemScope::Owned => "Owned",
        ItemScope::All => "All",
    }
}

fn read_scope(scope: ReadScope) -> &'static str {
    match scope {
        ReadScope::None => "None",
        ReadScope::TimeOnly => "TimeOnly",
        ReadScope::TimeAndSubjectAndLocation => "TimeAndSubjectAndLocation",
        ReadScope::FullDetails => "FullDetails",
    }
}

/// How a `t:UserId` is shown.
pub(crate) enum RenderedUser<'a> {
    Distinguished(&'a str),
    User {
        sid: &'a str,
        smtp: &'a str,
        display_name: &'a str,
    },
    SidOnly(&'a str),
    /// A user known only by its `ExternalUserIdentity` (also its display name here).
    External(&'a str),
    /// An empty `t:UserId`.
    Empty,
}

impl RenderedUser<'_> {
    fn render(&self) -> String {
        match self {
            RenderedUser::Distinguished(which) => fill(
                USER_ID_DISTINGUISHED,
                &[("DISTINGUISHED_USER", Fill::Text(which))],
            ),
            RenderedUser::User {
                sid,
                smtp,
                display_name,
            } => fill(
                USER_ID_USER,
                &[
                    ("SID", Fill::Text(sid)),
                    ("SMTP", Fill::Text(smtp)),
                    ("DISPLAY_NAME", Fill::Text(display_name)),
                ],
            ),
            RenderedUser::SidOnly(sid) => fill(USER_ID_SID, &[("SID", Fill::Text(sid))]),
            RenderedUser::External(identity) => fill(
                USER_ID_EXTERNAL,
                &[
                    ("DISPLAY_NAME", Fill::Text(identity)),
                    ("EXTERNAL_USER_IDENTITY", Fill::Text(identity)),
                ],
            ),
            RenderedUser::Empty => USER_ID_EMPTY.to_string(),
        }
    }
}

/// One permission entry to show.
pub(crate) struct RenderedPermission<'a> {
    pub user: RenderedUser<'a>,
    pub flags: PermissionFlags,
    pub level: &'a str,
}

/// `t:EffectiveRights` of the caller on the folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EffectiveRights {
    pub create_associated: bool,
    pub create_contents: bool,
    pub create_hierarchy: bool,
    pub delete: bool,
    pub modify: bool,
    pub read: bool,
    pub view_private_items: bool,
}

/// A `t:EffectiveRights` (folder or item).
pub(crate) fn effective_rights(rights: &EffectiveRights) -> String {
    fill(
        EFFECTIVE_RIGHTS,
        &[
            (
                "CREATE_ASSOCIATED",
                Fill::Text(boolean(rights.create_associated)),
            ),
            (
                "CREATE_CONTENTS",
                Fill::Text(boolean(rights.create_contents)),
            ),
            (
                "CREATE_HIERARCHY",
                Fill::Text(boolean(rights.create_hierarchy)),
            ),
            ("DELETE", Fill::Text(boolean(rights.delete))),
            ("MODIFY", Fill::Text(boolean(rights.modify))),
            ("READ", Fill::Text(boolean(rights.read))),
            (
                "VIEW_PRIVATE_ITEMS",
                Fill::Text(boolean(rights.view_private_items)),
            ),
        ],
    )
}

/// A GetFolder or UpdateFolder answer made of already rendered response messages.
pub(crate) fn folder_response(operation: &str, messages: &[String]) -> String {
    let inner: String = messages.concat();
    fill(
        FOLDER_RESPONSE,
        &[
            ("OPERATION", Fill::Text(operation)),
            ("MESSAGES", Fill::Xml(&inner)),
        ],
    )
}

/// One GetFolder success message for a calendar.
pub(crate) fn get_folder_message(
    folder_id: &str,
    change_key: &str,
    parent_folder_id: &str,
    rights: EffectiveRights,
    permission_set: Option<(&[RenderedPermission<'_>], &[String])>,
) -> String {
    let rights_xml = effective_rights(&rights);
    let permission_set_xml = match permission_set {
        None => String::new(),
        Some((permissions, unknown_entries)) => {
            let permissions_xml: String = permissions.iter().map(render_permission).collect();
            let unknown_xml = if unknown_entries.is_empty() {
                String::new()
            } else {
                let entries: String = unknown_entries
                    .iter()
                    .map(|entry| fill(UNKNOWN_ENTRY, &[("ENTRY", Fill::Text(entry))]))
                    .collect();
                fill(UNKNOWN_ENTRIES, &[("ENTRIES", Fill::Xml(&entries))])
            };
            fill(
                PERMISSION_SET,
                &[
                    ("PERMISSIONS", Fill::Xml(&permissions_xml)),
                    ("UNKNOWN_ENTRIES", Fill::Xml(&unknown_xml)),
                ],
            )
        }
    };
    fill(
        GET_FOLDER_MESSAGE,
        &[
            ("FOLDER_ID", Fill::Text(folder_id)),
            ("CHANGE_KEY", Fill::Text(change_key)),
            ("PARENT_FOLDER_ID", Fill::Text(parent_folder_id)),
            ("EFFECTIVE_RIGHTS", Fill::Xml(&rights_xml)),
            ("PERMISSION_SET", Fill::Xml(&permission_set_xml)),
        ],
    )
}

fn render_permission(permission: &RenderedPermission<'_>) -> String {
    let flags = permission.flags;
    let user = permission.user.render();
    fill(
        CALENDAR_PERMISSION,
        &[
            ("USER_ID", Fill::Xml(&user)),
            (
                "CAN_CREATE_ITEMS",
                Fill::Text(boolean(flags.can_create_items)),
            ),
            (
                "CAN_CREATE_SUBFOLDERS",
                Fill::Text(boolean(flags.can_create_subfolders)),
            ),
            (
                "IS_FOLDER_OWNER",
                Fill::Text(boolean(flags.is_folder_owner)),
            ),
            (
                "IS_FOLDER_VISIBLE",
                Fill::Text(boolean(flags.is_folder_visible)),
            ),
            (
                "IS_FOLDER_CONTACT",
                Fill::Text(boolean(flags.is_folder_contact)),
            ),
            ("EDIT_ITEMS", Fill::Text(item_scope(flags.edit_items))),
            ("DELETE_ITEMS", Fill::Text(item_scope(flags.delete_items))),
            ("READ_ITEMS", Fill::Text(read_scope(flags.read_items))),
            ("LEVEL", Fill::Text(permission.level)),
        ],
    )
}

/// One UpdateFolder success message with the calendar's new ChangeKey.
pub(crate) fn update_folder_message(folder_id: &str, change_key: &str) -> String {
    fill(
        UPDATE_FOLDER_MESSAGE,
        &[
            ("FOLDER_ID", Fill::Text(folder_id)),
            ("CHANGE_KEY", Fill::Text(change_key)),
        ],
    )
}

/// One per-message error of GetFolder/UpdateFolder (`operation` is the operation element name).
pub(crate) fn error_message(operation: &str, code: &str) -> String {
    fill(
        ERROR_MESSAGE,
        &[
            ("OPERATION", Fill::Text(operation)),
            ("CODE", Fill::Text(code)),
            ("MESSAGE", Fill::Text(message_text(code))),
        ],
    )
}

/// A SOAP fault (sent with HTTP 500): the `fixtures/ews/soap_fault` file when one exists (for
/// ErrorServerBusy with `back_off_ms` substituted), else the template; `back_off_ms` adds the
/// `BackOffMilliseconds` value.
pub(crate) fn soap_fault(code: &str, back_off_ms: Option<u64>) -> String {
    if let Some(fixture) = static_fault(code) {
        match back_off_ms {
            None => return fixture.to_string(),
            Some(back_off) => {
                if let Some(substituted) = with_back_off(fixture, back_off) {
                    return substituted;
                }
            }
        }
    }
    let message_xml = back_off_ms
        .map(|back_off| {
            fill(
                BACK_OFF_MESSAGE_XML,
                &[("BACK_OFF_MS", Fill::Text(&back_off.to_string()))],
            )
        })
        .unwrap_or_default();
    fill(
        SOAP_FAULT,
        &[
            ("CODE", Fill::Text(code)),
            ("MESSAGE", Fill::Text(message_text(code))),
            ("MESSAGE_XML", Fill::Xml(&message_xml)),
        ],
    )
}

/// The SOAP fault (HTTP 500) of a request beyond the account's `EWSMaxConcurrency`:
/// `ErrorExceededConnectionCount`, whose `MessageXml` names the policy part and its `limit` and
/// carries no `BackOffMilliseconds` (the shape of a published Exchange trace; docs/FIDELITY.md).
pub(crate) fn exceeded_connection_count_fault(limit: usize) -> String {
    let message_xml = fill(
        EXCEEDED_CONNECTION_COUNT_MESSAGE_XML,
        &[("LIMIT", Fill::Text(&limit.to_string()))],
    );
    let code = "ErrorExceededConnectionCount";
    fill(
        SOAP_FAULT,
        &[
            ("CODE", Fill::Text(code)),
            ("MESSAGE", Fill::Text(message_text(code))),
            ("MESSAGE_XML", Fill::Xml(&message_xml)),
        ],
    )
}

/// A SOAP fault (HTTP 500) whose `MessageXml` carries one `t:Value` (`name`, `value`).
pub(crate) fn soap_fault_with_value(code: &str, name: &str, value: &str) -> String {
    let message_xml = fill(
        MESSAGE_XML_VALUE,
        &[("NAME", Fill::Text(name)), ("VALUE", Fill::Text(value))],
    );
    fill(
        SOAP_FAULT,
        &[
            ("CODE", Fill::Text(code)),
            ("MESSAGE", Fill::Text(message_text(code))),
            ("MESSAGE_XML", Fill::Xml(&message_xml)),
        ],
    )
}

/// A folder or item answer (`operation`) of `count` error messages with `code` and one
/// `MessageXml` value each; CreateItem, UpdateItem and GetItem messages carry the empty
/// `m:Items` their schema requires.
pub(crate) fn message_errors_with_value(
    operation: &str,
    code: &str,
    (name, value): (&str, &str),
    count: usize,
) -> String {
    let items = if ["CreateItem", "UpdateItem", "GetItem"].contains(&operation) {
        "          <m:Items/>\n"
    } else {
        ""
    };
    let message = fill(
        MESSAGE_ERROR_VALUE,
        &[
            ("OPERATION", Fill::Text(operation)),
            ("CODE", Fill::Text(code)),
            ("MESSAGE", Fill::Text(message_text(code))),
            ("NAME", Fill::Text(name)),
            ("VALUE", Fill::Text(value)),
            ("ITEMS", Fill::Xml(items)),
        ],
    );
    folder_response(operation, &vec![message; count.max(1)])
}

/// One inner message of a delegate operation.
pub(crate) enum DelegateMessage<'a> {
    Success(Option<RenderedDelegate<'a>>),
    Error(&'a str),
}

/// A `m:DelegateUser` to show.
pub(crate) struct RenderedDelegate<'a> {
    pub user: RenderedUser<'a>,
    /// (element name, level) pairs in schema order; omitted when `None`.
    pub levels: Option<Vec<(&'static str, &'a str)>>,
    pub receive_copies: bool,
    pub view_private: bool,
}

/// A delegate operation's answer: outer Success, the inner messages, and for GetDelegate the
/// mailbox-wide `DeliverMeetingRequests`.
pub(crate) fn delegate_response(
    operation: &str,
    messages: &[DelegateMessage<'_>],
    deliver_meeting_requests: Option<&str>,
) -> String {
    let messages_xml = if messages.is_empty() {
        // The schema does not allow an empty m:ResponseMessages: leave it out (PROTOCOL §5.2).
        String::new()
    } else {
        let inner: String = messages.iter().map(render_delegate_message).collect();
        fill(
            DELEGATE_RESPONSE_MESSAGES,
            &[("MESSAGES", Fill::Xml(&inner))],
        )
    };
    let deliver_xml = deliver_meeting_requests
        .map(|value| {
            fill(
                DELIVER_MEETING_REQUESTS,
                &[("DELIVER_MEETING_REQUESTS", Fill::Text(value))],
            )
        })
        .unwrap_or_default();
    fill(
        DELEGATE_RESPONSE,
        &[
            ("OPERATION", Fill::Text(operation)),
            ("RESPONSE_MESSAGES", Fill::Xml(&messages_xml)),
            ("DELIVER_MEETING_REQUESTS", Fill::Xml(&deliver_xml)),
        ],
    )
}

/// A delegate operation that failed as a whole.
pub(crate) fn delegate_outer_error(operation: &str, code: &str) -> String {
    fill(
        DELEGATE_OUTER_ERROR,
        &[
            ("OPERATION", Fill::Text(operation)),
            ("CODE", Fill::Text(code)),
            ("MESSAGE", Fill::Text(message_text(code))),
        ],
    )
}

fn render_delegate_message(message: &DelegateMessage<'_>) -> String {
    match message {
        DelegateMessage::Error(code) => fill(
            DELEGATE_MESSAGE_ERROR,
            &[
                ("CODE", Fill::Text(code)),
                ("MESSAGE", Fill::Text(message_text(code))),
            ],
        ),
        DelegateMessage::Success(delegate) => {
            let user_xml = delegate
                .as_ref()
                .map(|delegate| {
                    let levels_xml = delegate
                        .levels
                        .as_ref()
                        .map(|levels| {
                            let inner: String = levels
                                .iter()
                                .map(|(element, level)| {
                                    fill(
                                        DELEGATE_PERMISSION_LEVEL,
                                        &[
                                            ("FOLDER_ELEMENT", Fill::Text(element)),
                                            ("LEVEL", Fill::Text(level)),
                                        ],
                                    )
                                })
                                .collect();
                            fill(DELEGATE_PERMISSIONS, &[("LEVELS", Fill::Xml(&inner))])
                        })
                        .unwrap_or_default();
                    let user = delegate.user.render();
                    fill(
                        DELEGATE_USER,
                        &[
                            ("USER_ID", Fill::Xml(&user)),
                            ("DELEGATE_PERMISSIONS", Fill::Xml(&levels_xml)),
                            (
                                "RECEIVE_COPIES",
                                Fill::Text(boolean(delegate.receive_copies)),
                            ),
                            ("VIEW_PRIVATE", Fill::Text(boolean(delegate.view_private))),
                        ],
                    )
                })
                .unwrap_or_default();
            fill(
                DELEGATE_MESSAGE_SUCCESS,
                &[("DELEGATE_USER", Fill::Xml(&user_xml))],
            )
        }
    }
}

/// The English `MessageText` the simulator sends per code (illustrative: clients key on the code).
pub(crate) fn message_text(code: &str) -> &'static str {
    match code {
        "ErrorAccessDenied" => "Access is denied. Check credentials and try again.",
        "ErrorFolderNotFound" => "The specified folder could not be found in the store.",
        "ErrorNonExistentMailbox" => "No mailbox with such guid.",
        "ErrorMailboxMoveInProgress" => "Mailbox move in progress. Try again later.",
        "ErrorMailboxStoreUnavailable" => "The mailbox database is temporarily unavailable.",
        "ErrorIrresolvableConflict" => {
            "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item."
        }
        "ErrorInvalidPermissionSettings" => "The specified permission settings are not valid.",
        "ErrorInvalidUserInfo" => "The user information is not valid.",
        "ErrorDuplicateUserIdsSpecified" => "The same user was specified more than once.",
        "ErrorInvalidUserSid" => "The SID could not be resolved.",
        "ErrorUserNotAllowedByPolicy" => {
            "The user cannot be given access: the sharing policy does not allow it."
        }
        "ErrorInvalidSmtpAddress" => "The SMTP address does not resolve to a user.",
        "ErrorInvalidChangeKey" => "The change key is invalid.",
        "ErrorChangeKeyRequiredForWriteOperations" => {
            "A change key is required for this write operation."
        }
        "ErrorCannotDeleteObject" => "The object cannot be deleted.",
        "ErrorExceededFindCountLimit" => {
            "The find operation would hold more items than the throttling policy allows; page or narrow it."
        }
        "ErrorNonPrimarySmtpAddress" => {
            "The mailbox must be named by its primary SMTP address; MessageXml names it."
        }
        "ErrorNotDelegate" => "The specified user is not a delegate for the mailbox.",
        "ErrorDelegateAlreadyExists" => "The user is already a delegate for the mailbox.",
        "ErrorDelegateNoUser" => "The delegate does not map to a user in the Active Directory.",
        "ErrorDelegateCannotAddOwner" => "The owner cannot be added as a delegate.",
        "ErrorImpersonateUserDenied" => {
            "The account does not have permission to impersonate the requested user."
        }
        "ErrorImpersonationDenied" => "The account does not have permission to impersonate.",
        "ErrorInvalidExchangeImpersonationHeaderData" => {
            "The ExchangeImpersonation SOAP header is not valid."
        }
        "ErrorServerBusy" => "The server cannot service this request right now. Try again later.",
        "ErrorExceededConnectionCount" => {
            "You have exceeded the available concurrent connections for your account.  Try again once your other requests have completed."
        }
        "ErrorSchemaValidation" => "The request failed schema validation.",
        "ErrorInvalidRequest" => "The request is invalid.",
        "ErrorInvalidOperation" => "The operation is not supported by this server.",
        "ErrorInvalidServerVersion" => "The specified server version is invalid.",
        "ErrorInternalServerError" => "An internal server error occurred. The operation failed.",
        _ => "The request failed.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_but_fragments_are_not() {
        let rendered = fill(
            "<a x=\"{{A}}\">{{B}}</a>",
            &[("A", Fill::Text("\"<&>'")), ("B", Fill::Xml("<b/>"))],
        );
        assert_eq!(rendered, "<a x=\"&quot;&lt;&amp;&gt;&apos;\"><b/></a>");
    }

    #[test]
    fn server_busy_fault_carries_the_back_off() {
        let fault = soap_fault("ErrorServerBusy", Some(1234));
        assert!(fault.contains(">1234</t:Value>"), "{fault}");
        assert!(fault.contains("a:ErrorServerBusy"));
        assert!(!fault.contains("{{"));
    }
}
