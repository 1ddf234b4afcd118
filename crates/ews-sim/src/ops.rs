//! The EWS operations the simulator answers, applied to its [`SimState`]: impersonation checks,
//! GetFolder, UpdateFolder and the four delegate operations; the item operations are routed to
//! `item_ops`.
//!
//! Invariants: a request that is refused as a whole is a SOAP fault with HTTP 500; a refused
//! folder or delegate is a per-message error with HTTP 200; a failed UpdateFolder changes
//! nothing; a successful permission change bumps the calendar's ChangeKey.
//! Exchange behaviour chosen where PROTOCOL.md leaves room (documented in fixtures/sim/README.md):
//! delegate-access GetFolder on a calendar the caller cannot see answers `ErrorFolderNotFound`
//! (PROTOCOL §2.2: "no access, or wrong id"), and asking for `folder:PermissionSet` without the
//! folder-owner right answers `ErrorAccessDenied` ("visible, but the right is missing").
//! Entry types: [`Answer`], [`handle`].

use crate::item_ops;
use crate::render::{
    self, DelegateMessage, EffectiveRights, RenderedDelegate, RenderedPermission, RenderedUser,
};
use crate::state::{
    Delegate, DelegatePermissions, ItemScope, Mailbox, PermissionEntry, PermissionFlags,
    PermissionLevel, Principal, ReadScope, SimState,
};
use crate::xml::{ConnectingSid, Element, MESSAGES_NS, SoapRequest, TYPES_NS};

/// The operations the simulator implements.
pub(crate) const OPERATIONS: [&str; 12] = [
    "GetFolder",
    "UpdateFolder",
    "GetDelegate",
    "AddDelegate",
    "UpdateDelegate",
    "RemoveDelegate",
    "FindItem",
    "GetItem",
    "CreateItem",
    "UpdateItem",
    "DeleteItem",
    "ExpandDL",
];

/// The values of `t:ExchangeVersionType` in the schema.
const SERVER_VERSIONS: [&str; 19] = [
    "Exchange2007",
    "Exchange2007_SP1",
    "Exchange2009",
    "Exchange2010",
    "Exchange2010_SP1",
    "Exchange2010_SP2",
    "Exchange2012",
    "Exchange2013",
    "Exchange2013_SP1",
    "Exchange2015",
    "Exchange2016",
    "V2015_10_05",
    "V2016_01_06",
    "V2016_04_13",
    "V2016_07_13",
    "V2016_10_10",
    "V2017_01_07",
    "V2017_04_14",
    "V2017_07_11",
];

/// An HTTP status and SOAP body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    pub status: u16,
    pub body: String,
    /// Items the request changed (CreateItem: created, UpdateItem: changed, DeleteItem:
    /// deleted), for `SimStats::items`.
    pub items: u64,
}

impl Answer {
    pub(crate) fn ok(body: String) -> Answer {
        Answer {
            status: 200,
            body,
            items: 0,
        }
    }

    pub(crate) fn fault(code: &str) -> Answer {
        Answer {
            status: 500,
            body: render::soap_fault(code, None),
            items: 0,
        }
    }
}

/// The mailbox a request is about, for fault filters: the impersonated mailbox, else the first
/// `t:Mailbox/t:EmailAddress` or `m:Mailbox/t:EmailAddress` in the body.
pub(crate) fn target_mailbox(request: &SoapRequest) -> Option<String> {
    match &request.impersonation {
        Some(ConnectingSid::PrimarySmtpAddress(smtp) | ConnectingSid::SmtpAddress(smtp)) => {
            return Some(smtp.to_ascii_lowercase());
        }
        Some(ConnectingSid::PrincipalName(upn)) => return Some(upn.to_ascii_lowercase()),
        _ => {}
    }
    body_mailbox(&request.operation)
}

/// The first `t:Mailbox/t:EmailAddress` or `m:Mailbox/t:EmailAddress` in a body, lower-cased.
fn body_mailbox(element: &Element) -> Option<String> {
    if element.name == "Mailbox"
        && (element.namespace == MESSAGES_NS || element.namespace == TYPES_NS)
    {
        if let Some(address) = element.child(TYPES_NS, "EmailAddress") {
            return Some(address.trimmed_text().to_ascii_lowercase());
        }
    }
    element.children.iter().find_map(body_mailbox)
}

/// The answer for a folder or item request that names a mailbox by an alias
/// (`ErrorNonPrimarySmtpAddress` with the primary address) or a mailbox that moved to
/// Exchange Online (`ErrorNonExistentMailbox` with its `MailboxGuid`): one per-message error
/// per input. `None` when the request names neither (delegate operations answer as before).
fn identity_answer(state: &SimState, actor: &Actor, operation: &Element) -> Option<Answer> {
    const INPUTS: [(&str, &str); 7] = [
        ("GetFolder", "FolderIds"),
        ("UpdateFolder", "FolderChanges"),
        ("FindItem", "ParentFolderIds"),
        ("GetItem", "ItemIds"),
        ("CreateItem", "Items"),
        ("UpdateItem", "ItemChanges"),
        ("DeleteItem", "ItemIds"),
    ];
    let (name, inputs) = INPUTS.iter().find(|(name, _)| *name == operation.name)?;
    let count = operation
        .child(MESSAGES_NS, inputs)
        .map_or(1, |inputs| inputs.children.len());
    let moved = |mailbox: &Mailbox| {
        mailbox.moved_to_cloud.as_deref().map(|guid| {
            Answer::ok(render::message_errors_with_value(
                name,
                "ErrorNonExistentMailbox",
                ("MailboxGuid", guid),
                count,
            ))
        })
    };
    if actor.impersonated {
        if let Some(answer) = state.mailboxes.get(&actor.smtp).and_then(moved) {
            return Some(answer);
        }
    }
    let named = body_mailbox(operation)?;
    match state.mailboxes.get(&named) {
        Some(mailbox) => moved(mailbox),
        None => state.mailbox_by_alias(&named).map(|mailbox| {
            Answer::ok(render::message_errors_with_value(
                name,
                "ErrorNonPrimarySmtpAddress",
                ("Primary", &mailbox.smtp),
                count,
            ))
        }),
    }
}

/// Who is acting: the authenticated account and, under impersonation, the impersonated mailbox.
pub(crate) struct Actor {
    /// The identity whose rights apply (impersonated mailbox, else the account), lower-cased.
    pub smtp: String,
    /// Whether the request carried an `ExchangeImpersonation` header.
    pub impersonated: bool,
    /// The service account that logged on, lower-cased: whose throttling budget is charged.
    pub account: String,
}

impl Actor {
    /// Whether the actor acts as the owner of `mailbox`.
    pub(crate) fn owns(&self, mailbox: &str) -> bool {
        self.smtp == mailbox
    }
}

/// Answers one authenticated SOAP request from the account with SMTP address `caller_smtp`.
pub(crate) fn handle(state: &mut SimState, caller_smtp: &str, request: &SoapRequest) -> Answer {
    let operation = &request.operation;
    if operation.namespace != MESSAGES_NS {
        return Answer::fault("ErrorSchemaValidation");
    }
    if !OPERATIONS.contains(&operation.name.as_str()) {
        return Answer::fault("ErrorInvalidRequest");
    }
    // A version outside the schema's enumeration fails schema validation (PROTOCOL §1.2:
    // there is no `Exchange2019`).
    if request
        .server_version
        .as_deref()
        .is_some_and(|version| !SERVER_VERSIONS.contains(&version))
    {
        return Answer::fault("ErrorSchemaValidation");
    }
    if request.impersonation_empty {
        return Answer::fault("ErrorInvalidExchangeImpersonationHeaderData");
    }
    let actor = match &request.impersonation {
        None => Actor {
            smtp: caller_smtp.to_string(),
            impersonated: false,
            account: caller_smtp.to_ascii_lowercase(),
        },
        Some(connecting) => {
            let (found, unknown_code) = match connecting {
                ConnectingSid::PrimarySmtpAddress(smtp) | ConnectingSid::SmtpAddress(smtp) => (
                    state.mailboxes.get(&smtp.to_ascii_lowercase()),
                    "ErrorNonExistentMailbox",
                ),
                // The simulated directory gives every mailbox user the UPN equal to its address.
                ConnectingSid::PrincipalName(upn) => (
                    state.mailboxes.get(&upn.to_ascii_lowercase()),
                    "ErrorInvalidUserPrincipalName",
                ),
                ConnectingSid::Sid(sid) => (
                    state
                        .directory_by_sid(sid)
                        .and_then(|entry| state.mailboxes.get(&entry.smtp.to_ascii_lowercase())),
                    "ErrorInvalidUserSid",
                ),
            };
            let Some(mailbox) = found else {
                // An alias in the header: Exchange refuses the header and names the primary.
                if let ConnectingSid::PrimarySmtpAddress(smtp) | ConnectingSid::SmtpAddress(smtp) =
                    connecting
                {
                    if let Some(aliased) = state.mailbox_by_alias(&smtp.to_ascii_lowercase()) {
                        return Answer {
                            status: 500,
                            body: render::soap_fault_with_value(
                                "ErrorNonPrimarySmtpAddress",
                                "Primary",
                                &aliased.smtp,
                            ),
                            items: 0,
                        };
                    }
                }
                return Answer::fault(unknown_code);
            };
            let target = mailbox.smtp.to_ascii_lowercase();
            let allowed = state
                .account_by_smtp(caller_smtp)
                .is_some_and(|account| account.may_impersonate(&target));
            if !allowed {
                return Answer::fault("ErrorImpersonateUserDenied");
            }
            Actor {
                smtp: target,
                impersonated: true,
                account: caller_smtp.to_ascii_lowercase(),
            }
        }
    };
    if let Some(answer) = identity_answer(state, &actor, operation) {
        return answer;
    }
    match operation.name.as_str() {
        "GetFolder" => get_folder(state, &actor, operation),
        "UpdateFolder" => update_folder(state, &actor, operation),
        "FindItem" => item_ops::find_item(state, &actor, operation),
        "GetItem" => item_ops::get_item(state, &actor, operation),
        "CreateItem" => item_ops::create_item(state, &actor, operation),
        "UpdateItem" => item_ops::update_item(state, &actor, operation),
        "DeleteItem" => item_ops::delete_item(state, &actor, operation),
        "ExpandDL" => crate::groups::expand_dl(state, operation),
        delegate_operation => delegates(state, &actor, delegate_operation, operation),
    }
}

// ---- GetFolder ----

fn get_folder(state: &SimState, actor: &Actor, operation: &Element) -> Answer {
    let wants_permissions = operation
        .child(MESSAGES_NS, "FolderShape")
        .is_some_and(|shape| shape.has_field_uri("folder:PermissionSet"));
    let Some(folder_ids) = operation.child(MESSAGES_NS, "FolderIds") else {
        return Answer::fault("ErrorSchemaValidation");
    };
    let mut messages = Vec::new();
    for folder_id in &folder_ids.children {
        messages.push(
            locate_folder(state, actor, folder_id)
                .and_then(|mailbox| get_folder_message(state, actor, mailbox, wants_permissions)),
        );
    }
    if messages.is_empty() {
        return Answer::fault("ErrorSchemaValidation");
    }
    folder_answer("GetFolder", messages)
}

/// A GetFolder/UpdateFolder answer; a lone error message is served from `fixtures/ews` when a
/// file exists for it.
fn folder_answer(operation: &str, messages: Vec<Result<String, &'static str>>) -> Answer {
    if let [Err(code)] = messages.as_slice() {
        if let Some(fixture) = render::static_message_error(operation, code) {
            return Answer::ok(fixture.to_string());
        }
    }
    let rendered: Vec<String> = messages
        .into_iter()
        .map(|message| message.unwrap_or_else(|code| render::error_message(operation, code)))
        .collect();
    Answer::ok(render::folder_response(operation, &rendered))
}

/// A GetFolder or UpdateFolder answer whose one response message is the error `code` (the
/// `message_error` fault); `None` for other operations.
pub(crate) fn folder_error_answer(operation: &str, code: &str) -> Option<Answer> {
    if !["GetFolder", "UpdateFolder"].contains(&operation) {
        return None;
    }
    if let Some(fixture) = render::static_message_error(operation, code) {
        return Some(Answer::ok(fixture.to_string()));
    }
    let message = render::error_message(operation, code);
    Some(Answer::ok(render::folder_response(operation, &[message])))
}

/// Finds the calendar a `t:DistinguishedFolderId` or `t:FolderId` names.
pub(crate) fn locate_folder<'a>(
    state: &'a SimState,
    actor: &Actor,
    folder_id: &Element,
) -> Result<&'a Mailbox, &'static str> {
    let mailbox = if folder_id.is(TYPES_NS, "DistinguishedFolderId") {
        if folder_id.attribute("Id") != Some("calendar") {
            return Err("ErrorFolderNotFound");
        }
        match folder_id.types_path(&["Mailbox", "EmailAddress"]) {
            Some(address) => state
                .mailboxes
                .get(&address.trimmed_text().to_ascii_lowercase())
                .ok_or("ErrorNonExistentMailbox")?,
            None => state
                .mailboxes
                .get(&actor.smtp)
                .ok_or("ErrorMissingEmailAddress")?,
        }
    } else if folder_id.is(TYPES_NS, "FolderId") {
        let id = folder_id.attribute("Id").unwrap_or_default();
        state
            .mailboxes
            .values()
            .find(|mailbox| mailbox.folder_id == id)
            .ok_or("ErrorFolderNotFound")?
    } else {
        return Err("ErrorInvalidIdMalformed");
    };
    if mailbox.moving {
        return Err("ErrorMailboxMoveInProgress");
    }
    if mailbox.store_unavailable {
        return Err("ErrorMailboxStoreUnavailable");
    }
    Ok(mailbox)
}

/// The rights `smtp` has on a calendar: its own entry, else the union of the entries of the
/// groups it belongs to (directly or through nested groups), else Default.
pub(crate) fn effective_flags(state: &SimState, mailbox: &Mailbox, smtp: &str) -> PermissionFlags {
    let entry_for = |principal: &Principal| {
        mailbox
            .permissions
            .iter()
            .find(|entry| &entry.principal == principal)
            .map(|entry| entry.flags)
    };
    if let Some(flags) = entry_for(&Principal::Smtp(smtp.to_string())) {
        return flags;
    }
    let group_flags = mailbox
        .permissions
        .iter()
        .filter(|entry| match &entry.principal {
            Principal::Smtp(group) => crate::groups::is_member(state, group, smtp),
            _ => false,
        })
        .map(|entry| entry.flags)
        .reduce(PermissionFlags::union);
    group_flags
        .or_else(|| entry_for(&Principal::Default))
        .unwrap_or_default()
}

fn get_folder_message(
    state: &SimState,
    actor: &Actor,
    mailbox: &Mailbox,
    wants_permissions: bool,
) -> Result<String, &'static str> {
    let owner_key = mailbox.smtp.to_ascii_lowercase();
    let rights = if actor.owns(&owner_key) {
        EffectiveRights {
            create_associated: true,
            create_contents: true,
            create_hierarchy: true,
            delete: true,
            modify: true,
            read: true,
            view_private_items: true,
        }
    } else {
        let flags = effective_flags(state, mailbox, &actor.smtp);
        if !flags.is_folder_visible {
            return Err("ErrorFolderNotFound");
        }
        if wants_permissions && !flags.is_folder_owner {
            return Err("ErrorAccessDenied");
        }
        let delegate_private = mailbox
            .delegates
            .iter()
            .any(|delegate| delegate.user == actor.smtp && delegate.view_private);
        // The folder's PR_ACCESS: Modify, Delete and CreateAssociated are about the folder
        // object itself and belong to folder owners only; EditItems/DeleteItems are item rights
        // and never show here (docs/FIDELITY.md).
        EffectiveRights {
            create_associated: flags.is_folder_owner,
            create_contents: flags.can_create_items,
            create_hierarchy: flags.can_create_subfolders,
            delete: flags.is_folder_owner,
            modify: flags.is_folder_owner,
            read: flags.read_items == ReadScope::FullDetails,
            view_private_items: flags.is_folder_owner || delegate_private,
        }
    };
    let permissions: Vec<RenderedPermission<'_>> = mailbox
        .permissions
        .iter()
        .map(|entry| RenderedPermission {
            user: rendered_user(state, &entry.principal),
            flags: entry.flags,
            level: entry.level.as_str(),
        })
        .collect();
    let permission_set =
        wants_permissions.then_some((permissions.as_slice(), mailbox.unknown_entries.as_slice()));
    Ok(render::get_folder_message(
        &mailbox.folder_id,
        &mailbox.change_key,
        &mailbox.parent_folder_id,
        rights,
        permission_set,
    ))
}

fn rendered_user<'a>(state: &'a SimState, principal: &'a Principal) -> RenderedUser<'a> {
    match principal {
        Principal::Default => RenderedUser::Distinguished("Default"),
        Principal::Anonymous => RenderedUser::Distinguished("Anonymous"),
        Principal::Sid(sid) => RenderedUser::SidOnly(sid),
        Principal::External(identity) => RenderedUser::External(identity),
        Principal::Unidentified => RenderedUser::Empty,
        Principal::Smtp(smtp) => rendered_user_for(state, smtp),
    }
}

// ---- UpdateFolder ----

/// The children of `t:CalendarPermission` in schema order (PROTOCOL §3.3).
const PERMISSION_CHILDREN: [&str; 10] = [
    "UserId",
    "CanCreateItems",
    "CanCreateSubFolders",
    "IsFolderOwner",
    "IsFolderVisible",
    "IsFolderContact",
    "EditItems",
    "DeleteItems",
    "ReadItems",
    "CalendarPermissionLevel",
];

/// Why an UpdateFolder change was refused: a per-message code, or a fault for the whole request.
enum Refusal {
    Message(&'static str),
    Fault(&'static str),
}

fn update_folder(state: &mut SimState, actor: &Actor, operation: &Element) -> Answer {
    let Some(changes) = operation.child(MESSAGES_NS, "FolderChanges") else {
        return Answer::fault("ErrorSchemaValidation");
    };
    if !permission_sets_are_schema_valid(changes) {
        return Answer::fault("ErrorSchemaValidation");
    }
    let mut messages = Vec::new();
    for change in changes.children_named(TYPES_NS, "FolderChange") {
        match update_one_folder(state, actor, change) {
            Ok(message) => messages.push(Ok(message)),
            Err(Refusal::Message(code)) => messages.push(Err(code)),
            Err(Refusal::Fault(code)) => return Answer::fault(code),
        }
    }
    if messages.is_empty() {
        return Answer::fault("ErrorSchemaValidation");
    }
    folder_answer("UpdateFolder", messages)
}

fn update_one_folder(
    state: &mut SimState,
    actor: &Actor,
    change: &Element,
) -> Result<String, Refusal> {
    let folder_id = change
        .children
        .iter()
        .find(|child| child.is(TYPES_NS, "FolderId") || child.is(TYPES_NS, "DistinguishedFolderId"))
        .ok_or(Refusal::Fault("ErrorSchemaValidation"))?;
    let mailbox = locate_folder(state, actor, folder_id).map_err(Refusal::Message)?;
    let key = mailbox.smtp.to_ascii_lowercase();
    let may_write =
        actor.owns(&key) || effective_flags(state, mailbox, &actor.smtp).is_folder_owner;
    if !may_write {
        return Err(Refusal::Message("ErrorAccessDenied"));
    }
    let Some(sent_change_key) = folder_id.attribute("ChangeKey") else {
        return Err(Refusal::Message("ErrorChangeKeyRequiredForWriteOperations"));
    };
    if sent_change_key != mailbox.change_key {
        return Err(Refusal::Message("ErrorIrresolvableConflict"));
    }
    let updates = change
        .child(TYPES_NS, "Updates")
        .ok_or(Refusal::Fault("ErrorSchemaValidation"))?;
    let mut new_set: Option<Vec<PermissionEntry>> = None;
    for update in &updates.children {
        let is_permission_set = update
            .child(TYPES_NS, "FieldURI")
            .is_some_and(|field| field.attribute("FieldURI") == Some("folder:PermissionSet"));
        if !is_permission_set {
            return Err(Refusal::Message("ErrorInvalidPropertySet"));
        }
        if update.is(TYPES_NS, "DeleteFolderField") {
            new_set = Some(Vec::new());
        } else if update.is(TYPES_NS, "SetFolderField") {
            let calendar_permissions = update
                .types_path(&["CalendarFolder", "PermissionSet", "CalendarPermissions"])
                .ok_or(Refusal::Message("ErrorInvalidPropertySet"))?;
            new_set = Some(parse_permission_set(state, mailbox, calendar_permissions)?);
        } else {
            return Err(Refusal::Message("ErrorInvalidPropertySet"));
        }
    }
    let Some(new_set) = new_set else {
        return Err(Refusal::Fault("ErrorSchemaValidation"));
    };
    let mailbox = state.mailboxes.get_mut(&key).expect("located above");
    mailbox.permissions = new_set;
    // A rewrite cannot carry entries that do not resolve: they disappear (PROTOCOL §4.2).
    mailbox.unknown_entries.clear();
    mailbox.bump_change_key();
    Ok(render::update_folder_message(
        &mailbox.folder_id,
        &mailbox.change_key,
    ))
}

fn parse_permission_set(
    state: &SimState,
    mailbox: &Mailbox,
    calendar_permissions: &Element,
) -> Result<Vec<PermissionEntry>, Refusal> {
    let mut entries: Vec<PermissionEntry> = Vec::new();
    for permission in &calendar_permissions.children {
        if !permission.is(TYPES_NS, "CalendarPermission") {
            return Err(Refusal::Fault("ErrorSchemaValidation"));
        }
        check_child_order(permission)?;
        let user_id = permission
            .child(TYPES_NS, "UserId")
            .ok_or(Refusal::Fault("ErrorSchemaValidation"))?;
        let principal = resolve_user_id(state, mailbox, user_id)?;
        let level_text = permission
            .child(TYPES_NS, "CalendarPermissionLevel")
            .map(|level| level.trimmed_text())
            .ok_or(Refusal::Fault("ErrorSchemaValidation"))?;
        let level =
            PermissionLevel::parse(level_text).ok_or(Refusal::Fault("ErrorSchemaValidation"))?;
        let flags = read_flags(permission, level)?;
        if entries.iter().any(|entry| entry.principal == principal) {
            return Err(Refusal::Message("ErrorDuplicateUserIdsSpecified"));
        }
        entries.push(PermissionEntry::from_flags(principal, flags));
    }
    Ok(entries)
}

/// The structural checks the schema would make on every calendar permission set in the request:
/// `CalendarPermissions`/`UnknownEntries` only, and each `CalendarPermission`'s children known
/// and in schema order.
fn permission_sets_are_schema_valid(element: &Element) -> bool {
    if element.is(TYPES_NS, "CalendarFolder") {
        if let Some(permission_set) = element.child(TYPES_NS, "PermissionSet") {
            let known = permission_set.children.iter().all(|child| {
                child.is(TYPES_NS, "CalendarPermissions") || child.is(TYPES_NS, "UnknownEntries")
            });
            if !known
                || permission_set
                    .child(TYPES_NS, "CalendarPermissions")
                    .is_none()
            {
                return false;
            }
        }
    }
    if element.is(TYPES_NS, "CalendarPermission") && check_child_order(element).is_err() {
        return false;
    }
    element
        .children
        .iter()
        .all(permission_sets_are_schema_valid)
}

fn check_child_order(permission: &Element) -> Result<(), Refusal> {
    let mut last = None;
    for child in &permission.children {
        let position = PERMISSION_CHILDREN
            .iter()
            .position(|name| child.is(TYPES_NS, name))
            .ok_or(Refusal::Fault("ErrorSchemaValidation"))?;
        if last.is_some_and(|last| position <= last) {
            return Err(Refusal::Fault("ErrorSchemaValidation"));
        }
        last = Some(position);
    }
    Ok(())
}

fn resolve_user_id(
    state: &SimState,
    mailbox: &Mailbox,
    user_id: &Element,
) -> Result<Principal, Refusal> {
    let text = |name: &str| {
        user_id
            .child(TYPES_NS, name)
            .map(|child| child.trimmed_text().to_string())
    };
    let sid = text("SID");
    let smtp = text("PrimarySmtpAddress");
    let display_name = text("DisplayName");
    let external = text("ExternalUserIdentity");
    if let Some(distinguished) = text("DistinguishedUser") {
        if sid.is_some() || smtp.is_some() || display_name.is_some() || external.is_some() {
            return Err(Refusal::Message("ErrorInvalidUserInfo"));
        }
        return match distinguished.as_str() {
            "Default" => Ok(Principal::Default),
            "Anonymous" => Ok(Principal::Anonymous),
            _ => Err(Refusal::Fault("ErrorSchemaValidation")),
        };
    }
    let by_smtp = match &smtp {
        Some(smtp) => {
            let key = smtp.to_ascii_lowercase();
            if !state.directory.contains_key(&key) {
                return Err(Refusal::Message("ErrorInvalidSmtpAddress"));
            }
            Some(Principal::Smtp(key))
        }
        None => None,
    };
    let by_sid = match &sid {
        Some(sid) => Some(match state.directory_by_sid(sid) {
            Some(entry) => Principal::Smtp(entry.smtp.to_ascii_lowercase()),
            // A SID that resolves to nobody is accepted only if the ACL already holds it (a
            // deleted user carried over by a read-merge-write client).
            None if mailbox
                .permissions
                .iter()
                .any(|entry| entry.principal == Principal::Sid(sid.clone())) =>
            {
                Principal::Sid(sid.clone())
            }
            None => return Err(Refusal::Message("ErrorInvalidUserSid")),
        }),
        None => None,
    };
    let holds = |principal: &Principal| {
        mailbox
            .permissions
            .iter()
            .any(|entry| entry.principal == *principal)
    };
    match (by_sid, by_smtp) {
        (Some(from_sid), Some(from_smtp)) if from_sid != from_smtp => {
            Err(Refusal::Message("ErrorInvalidUserInfo"))
        }
        (Some(principal), _) | (None, Some(principal)) => Ok(principal),
        // Entries a read-merge-write client carries over as it read them: a cross-organization
        // user known only by its ExternalUserIdentity, and an empty UserId, are kept when the
        // ACL holds them already (docs/FIDELITY.md: verify on your server). A new external user
        // needs a sharing policy the simulator does not model.
        (None, None) => match external {
            Some(identity) => {
                let principal = Principal::External(identity);
                if holds(&principal) {
                    Ok(principal)
                } else {
                    Err(Refusal::Message("ErrorUserNotAllowedByPolicy"))
                }
            }
            None if holds(&Principal::Unidentified) => Ok(Principal::Unidentified),
            None => Err(Refusal::Message("ErrorInvalidUserInfo")),
        },
    }
}

fn read_flags(permission: &Element, level: PermissionLevel) -> Result<PermissionFlags, Refusal> {
    let invalid = || Refusal::Fault("ErrorSchemaValidation");
    let text = |name: &str| {
        permission
            .child(TYPES_NS, name)
            .map(|child| child.trimmed_text())
    };
    let boolean = |name: &str| -> Result<Option<bool>, Refusal> {
        match text(name) {
            None => Ok(None),
            Some("true" | "1") => Ok(Some(true)),
            Some("false" | "0") => Ok(Some(false)),
            Some(_) => Err(invalid()),
        }
    };
    let item_scope = |name: &str| -> Result<Option<ItemScope>, Refusal> {
        match text(name) {
            None => Ok(None),
            Some("None") => Ok(Some(ItemScope::None)),
            Some("Owned") => Ok(Some(ItemScope::Owned)),
            Some("All") => Ok(Some(ItemScope::All)),
            Some(_) => Err(invalid()),
        }
    };
    let read_items = match text("ReadItems") {
        None => None,
        Some("None") => Some(ReadScope::None),
        Some("TimeOnly") => Some(ReadScope::TimeOnly),
        Some("TimeAndSubjectAndLocation") => Some(ReadScope::TimeAndSubjectAndLocation),
        Some("FullDetails") => Some(ReadScope::FullDetails),
        Some(_) => return Err(invalid()),
    };
    let sent = (
        boolean("CanCreateItems")?,
        boolean("CanCreateSubFolders")?,
        boolean("IsFolderOwner")?,
        boolean("IsFolderVisible")?,
        boolean("IsFolderContact")?,
        item_scope("EditItems")?,
        item_scope("DeleteItems")?,
        read_items,
    );
    let base = level.flags().unwrap_or_default();
    let flags = PermissionFlags {
        can_create_items: sent.0.unwrap_or(base.can_create_items),
        can_create_subfolders: sent.1.unwrap_or(base.can_create_subfolders),
        is_folder_owner: sent.2.unwrap_or(base.is_folder_owner),
        is_folder_visible: sent.3.unwrap_or(base.is_folder_visible),
        is_folder_contact: sent.4.unwrap_or(base.is_folder_contact),
        edit_items: sent.5.unwrap_or(base.edit_items),
        delete_items: sent.6.unwrap_or(base.delete_items),
        read_items: sent.7.unwrap_or(base.read_items),
    };
    // A named level with individual flags that disagree with it is refused (PROTOCOL §4.2).
    if level != PermissionLevel::Custom && level.flags() != Some(flags) {
        return Err(Refusal::Message("ErrorInvalidPermissionSettings"));
    }
    Ok(flags)
}

// ---- Delegates ----

fn delegates(
    state: &mut SimState,
    actor: &Actor,
    operation_name: &str,
    operation: &Element,
) -> Answer {
    let Some(address) = operation
        .child(MESSAGES_NS, "Mailbox")
        .and_then(|mailbox| mailbox.child(TYPES_NS, "EmailAddress"))
    else {
        return Answer::fault("ErrorSchemaValidation");
    };
    let key = address.trimmed_text().to_ascii_lowercase();
    let outer_error = |code| Answer::ok(render::delegate_outer_error(operation_name, code));
    let Some(mailbox) = state.mailboxes.get(&key) else {
        return outer_error("ErrorNonExistentMailbox");
    };
    if mailbox.moving {
        return outer_error("ErrorMailboxMoveInProgress");
    }
    if !actor.owns(&key) {
        return outer_error("ErrorAccessDenied");
    }
    match operation_name {
        "GetDelegate" => get_delegate(state, &key, operation),
        "AddDelegate" => add_delegate(state, &key, operation),
        "UpdateDelegate" => update_delegate(state, &key, operation),
        _ => remove_delegate(state, &key, operation),
    }
}

/// Resolves a delegate `t:UserId` (PrimarySmtpAddress or SID) to a directory address.
fn resolve_delegate_user(state: &SimState, user_id: &Element) -> Option<String> {
    if let Some(smtp) = user_id.child(TYPES_NS, "PrimarySmtpAddress") {
        let key = smtp.trimmed_text().to_ascii_lowercase();
        return state.directory.contains_key(&key).then_some(key);
    }
    let sid = user_id.child(TYPES_NS, "SID")?;
    state
        .directory_by_sid(sid.trimmed_text())
        .map(|entry| entry.smtp.to_ascii_lowercase())
}

fn rendered_delegate<'a>(
    state: &'a SimState,
    delegate: &'a Delegate,
    with_levels: bool,
) -> RenderedDelegate<'a> {
    let user = rendered_user_for(state, &delegate.user);
    let levels = with_levels.then(|| {
        delegate
            .permissions
            .in_order()
            .into_iter()
            .filter_map(|(element, level)| {
                level
                    .as_deref()
                    .filter(|level| *level != "None")
                    .map(|level| (element, level))
            })
            .collect()
    });
    RenderedDelegate {
        user,
        levels,
        receive_copies: delegate.receive_copies,
        view_private: delegate.view_private,
    }
}

fn rendered_user_for<'a>(state: &'a SimState, smtp: &'a str) -> RenderedUser<'a> {
    match state.directory.get(smtp) {
        Some(entry) => RenderedUser::User {
            sid: &entry.sid,
            smtp: &entry.smtp,
            display_name: &entry.display_name,
        },
        None => RenderedUser::User {
            sid: "",
            smtp,
            display_name: smtp,
        },
    }
}

fn get_delegate(state: &SimState, key: &str, operation: &Element) -> Answer {
    let mailbox = &state.mailboxes[key];
    let include_permissions = operation.attribute("IncludePermissions") == Some("true");
    let mut messages = Vec::new();
    match operation.child(MESSAGES_NS, "UserIds") {
        Some(user_ids) => {
            for user_id in user_ids.children_named(TYPES_NS, "UserId") {
                let found = resolve_delegate_user(state, user_id).and_then(|smtp| {
                    mailbox
                        .delegates
                        .iter()
                        .find(|delegate| delegate.user == smtp)
                });
                messages.push(match found {
                    Some(delegate) => DelegateMessage::Success(Some(rendered_delegate(
                        state,
                        delegate,
                        include_permissions,
                    ))),
                    None => DelegateMessage::Error("ErrorNotDelegate"),
                });
            }
        }
        None => {
            for delegate in &mailbox.delegates {
                messages.push(DelegateMessage::Success(Some(rendered_delegate(
                    state,
                    delegate,
                    include_permissions,
                ))));
            }
        }
    }
    Answer::ok(render::delegate_response(
        "GetDelegate",
        &messages,
        Some(&mailbox.deliver_meeting_requests),
    ))
}

/// What one `t:DelegateUser` of an Add/UpdateDelegate asks for.
struct DelegateRequest {
    user: Option<String>,
    levels: Vec<(String, String)>,
    receive_copies: Option<bool>,
    view_private: Option<bool>,
}

fn read_delegate_user(state: &SimState, delegate_user: &Element) -> DelegateRequest {
    let user = delegate_user
        .child(TYPES_NS, "UserId")
        .and_then(|user_id| resolve_delegate_user(state, user_id));
    let levels = delegate_user
        .child(TYPES_NS, "DelegatePermissions")
        .map(|permissions| {
            permissions
                .children
                .iter()
                .map(|level| (level.name.clone(), level.trimmed_text().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let boolean = |name: &str| {
        delegate_user
            .child(TYPES_NS, name)
            .map(|value| matches!(value.trimmed_text(), "true" | "1"))
    };
    DelegateRequest {
        user,
        levels,
        receive_copies: boolean("ReceiveCopiesOfMeetingMessages"),
        view_private: boolean("ViewPrivateItems"),
    }
}

/// Applies the sent folder levels; `Err` with a code when one is not allowed.
fn apply_levels(
    permissions: &mut DelegatePermissions,
    levels: &[(String, String)],
) -> Result<(), &'static str> {
    for (element, level) in levels {
        if !matches!(level.as_str(), "None" | "Editor" | "Reviewer" | "Author") {
            return Err("ErrorInvalidDelegatePermission");
        }
        let slot = permissions
            .slot_mut(element)
            .ok_or("ErrorInvalidDelegatePermission")?;
        *slot = Some(level.clone());
    }
    Ok(())
}

/// Keeps the calendar ACL in step with a delegate's calendar level, as Exchange does.
fn sync_calendar_entry(mailbox: &mut Mailbox, delegate_smtp: &str, calendar_level: Option<&str>) {
    let principal = Principal::Smtp(delegate_smtp.to_string());
    let before = mailbox.permissions.clone();
    mailbox
        .permissions
        .retain(|entry| entry.principal != principal);
    if let Some(level) = calendar_level.and_then(PermissionLevel::parse) {
        if level != PermissionLevel::None {
            let flags = level.flags().unwrap_or_default();
            mailbox
                .permissions
                .push(PermissionEntry::from_flags(principal, flags));
        }
    }
    if mailbox.permissions != before {
        mailbox.bump_change_key();
    }
}

/// The `m:DelegateUsers` of an AddDelegate or UpdateDelegate, read.
fn read_delegate_users(state: &SimState, operation: &Element) -> Vec<DelegateRequest> {
    operation
        .child(MESSAGES_NS, "DelegateUsers")
        .map(|users| {
            users
                .children_named(TYPES_NS, "DelegateUser")
                .map(|user| read_delegate_user(state, user))
                .collect()
        })
        .unwrap_or_default()
}

/// Stores `m:DeliverMeetingRequests` where the operation sent it.
fn set_deliver_meeting_requests(state: &mut SimState, key: &str, operation: &Element) {
    if let Some(deliver) = operation.child(MESSAGES_NS, "DeliverMeetingRequests") {
        state
            .mailboxes
            .get_mut(key)
            .expect("checked by the caller")
            .deliver_meeting_requests = deliver.trimmed_text().to_string();
    }
}

fn add_delegate(state: &mut SimState, key: &str, operation: &Element) -> Answer {
    let requests = read_delegate_users(state, operation);
    if requests.is_empty() {
        return Answer::fault("ErrorSchemaValidation");
    }
    let mut results: Vec<Result<String, &'static str>> = Vec::new();
    for request in requests {
        let result = (|| {
            let user = request.user.ok_or("ErrorDelegateNoUser")?;
            let mailbox = state.mailboxes.get_mut(key).expect("checked by the caller");
            if user == key {
                return Err("ErrorDelegateCannotAddOwner");
            }
            if mailbox
                .delegates
                .iter()
                .any(|delegate| delegate.user == user)
            {
                return Err("ErrorDelegateAlreadyExists");
            }
            let mut permissions = DelegatePermissions::default();
            apply_levels(&mut permissions, &request.levels)?;
            sync_calendar_entry(mailbox, &user, permissions.calendar.as_deref());
            mailbox.delegates.push(Delegate {
                user: user.clone(),
                permissions,
                receive_copies: request.receive_copies.unwrap_or(false),
                view_private: request.view_private.unwrap_or(false),
            });
            Ok(user)
        })();
        results.push(result);
    }
    set_deliver_meeting_requests(state, key, operation);
    delegate_results(state, key, "AddDelegate", &results, false)
}

fn update_delegate(state: &mut SimState, key: &str, operation: &Element) -> Answer {
    let requests = read_delegate_users(state, operation);
    let mut results: Vec<Result<String, &'static str>> = Vec::new();
    for request in requests {
        let result = (|| {
            let user = request.user.ok_or("ErrorDelegateNoUser")?;
            let mailbox = state.mailboxes.get_mut(key).expect("checked by the caller");
            let index = mailbox
                .delegates
                .iter()
                .position(|delegate| delegate.user == user)
                .ok_or("ErrorNotDelegate")?;
            let mut permissions = mailbox.delegates[index].permissions.clone();
            apply_levels(&mut permissions, &request.levels)?;
            let calendar_sent = request
                .levels
                .iter()
                .any(|(element, _)| element == "CalendarFolderPermissionLevel");
            if calendar_sent {
                sync_calendar_entry(mailbox, &user, permissions.calendar.as_deref());
            }
            let delegate = &mut mailbox.delegates[index];
            delegate.permissions = permissions;
            if let Some(receive_copies) = request.receive_copies {
                delegate.receive_copies = receive_copies;
            }
            if let Some(view_private) = request.view_private {
                delegate.view_private = view_private;
            }
            Ok(user)
        })();
        results.push(result);
    }
    set_deliver_meeting_requests(state, key, operation);
    delegate_results(state, key, "UpdateDelegate", &results, true)
}

fn remove_delegate(state: &mut SimState, key: &str, operation: &Element) -> Answer {
    let user_ids: Vec<Option<String>> = operation
        .child(MESSAGES_NS, "UserIds")
        .map(|ids| {
            ids.children_named(TYPES_NS, "UserId")
                .map(|user_id| resolve_delegate_user(state, user_id))
                .collect()
        })
        .unwrap_or_default();
    if user_ids.is_empty() {
        return Answer::fault("ErrorSchemaValidation");
    }
    let mut messages_codes: Vec<Option<&'static str>> = Vec::new();
    for user in user_ids {
        let mailbox = state.mailboxes.get_mut(key).expect("checked by the caller");
        let code = match user {
            None => Some("ErrorNotDelegate"),
            Some(user) => match mailbox
                .delegates
                .iter()
                .position(|delegate| delegate.user == user)
            {
                None => Some("ErrorNotDelegate"),
                Some(index) => {
                    mailbox.delegates.remove(index);
                    sync_calendar_entry(mailbox, &user, None);
                    None
                }
            },
        };
        messages_codes.push(code);
    }
    if let [Some(code)] = messages_codes.as_slice() {
        if let Some(fixture) = render::static_message_error("RemoveDelegate", code) {
            return Answer::ok(fixture.to_string());
        }
    }
    let messages: Vec<DelegateMessage<'_>> = messages_codes
        .into_iter()
        .map(|code| match code {
            Some(code) => DelegateMessage::Error(code),
            None => DelegateMessage::Success(None),
        })
        .collect();
    Answer::ok(render::delegate_response("RemoveDelegate", &messages, None))
}

fn delegate_results(
    state: &SimState,
    key: &str,
    operation_name: &str,
    results: &[Result<String, &'static str>],
    with_levels: bool,
) -> Answer {
    if let [Err(code)] = results {
        if let Some(fixture) = render::static_message_error(operation_name, code) {
            return Answer::ok(fixture.to_string());
        }
    }
    let mailbox = &state.mailboxes[key];
    let messages: Vec<DelegateMessage<'_>> = results
        .iter()
        .map(|result| match result {
            Err(code) => DelegateMessage::Error(code),
            Ok(user) => match mailbox
                .delegates
                .iter()
                .find(|delegate| &delegate.user == user)
            {
                Some(delegate) => {
                    DelegateMessage::Success(Some(rendered_delegate(state, delegate, with_levels)))
                }
                None => DelegateMessage::Error("ErrorNotDelegate"),
            },
        })
        .collect();
    Answer::ok(render::delegate_response(operation_name, &messages, None))
}
