//! The simulator's EWS behaviour: impersonation, GetFolder (owner and delegate access),
//! UpdateFolder (ChangeKey, Exchange's permission rules, whole-set replacement) and delegates.

mod common;

use common::sim::*;
use ews_connector::sim::PermissionLevel;

fn update_folder(folder_id: &str, change_key: &str, permissions: &str) -> String {
    format!(
        r#"<m:UpdateFolder><m:FolderChanges><t:FolderChange>
<t:FolderId Id="{folder_id}" ChangeKey="{change_key}"/>
<t:Updates><t:SetFolderField><t:FieldURI FieldURI="folder:PermissionSet"/>
<t:CalendarFolder><t:PermissionSet><t:CalendarPermissions>{permissions}</t:CalendarPermissions></t:PermissionSet></t:CalendarFolder>
</t:SetFolderField></t:Updates></t:FolderChange></m:FolderChanges></m:UpdateFolder>"#
    )
}

fn entry(user_id: &str, rest: &str) -> String {
    format!("<t:CalendarPermission><t:UserId>{user_id}</t:UserId>{rest}</t:CalendarPermission>")
}

fn level(name: &str) -> String {
    format!("<t:CalendarPermissionLevel>{name}</t:CalendarPermissionLevel>")
}

const DEFAULT: &str = "<t:DistinguishedUser>Default</t:DistinguishedUser>";
const ANONYMOUS: &str = "<t:DistinguishedUser>Anonymous</t:DistinguishedUser>";

fn smtp(address: &str) -> String {
    format!("<t:PrimarySmtpAddress>{address}</t:PrimarySmtpAddress>")
}

const ALICE: &str = "alice@contoso.example";

#[tokio::test]
async fn update_with_stale_change_key_conflicts_and_changes_nothing() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    let before = sim.calendar(ALICE).unwrap();
    let permissions = [
        entry(DEFAULT, &level("None")),
        entry(ANONYMOUS, &level("None")),
    ]
    .concat();
    let response = call(
        &mut client,
        &envelope(
            Some(ALICE),
            &update_folder(&before.folder_id, "AgAAABQAAADstale", &permissions),
        ),
    )
    .await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response_codes(&response.body),
        ["ErrorIrresolvableConflict"]
    );
    assert_eq!(sim.calendar(ALICE).unwrap(), before);
}

#[tokio::test]
async fn another_writer_makes_a_read_change_key_stale() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    let read = call(&mut client, &get_folder_impersonating(ALICE)).await;
    let read_key = change_key_in(&read.body).unwrap();
    let new_key = sim
        .mutate_permissions(ALICE, "carol@contoso.example", PermissionLevel::Editor)
        .unwrap();
    assert_ne!(new_key, read_key);
    let folder_id = sim.calendar(ALICE).unwrap().folder_id;
    let permissions = [
        entry(DEFAULT, &level("None")),
        entry(ANONYMOUS, &level("None")),
    ]
    .concat();
    let response = call(
        &mut client,
        &envelope(
            Some(ALICE),
            &update_folder(&folder_id, &read_key, &permissions),
        ),
    )
    .await;
    assert_eq!(
        response_codes(&response.body),
        ["ErrorIrresolvableConflict"]
    );
    let carol = sim
        .permissions(ALICE)
        .unwrap()
        .into_iter()
        .find(|view| view.user == "carol@contoso.example")
        .unwrap();
    assert_eq!(carol.level, PermissionLevel::Editor);
}

#[tokio::test]
async fn update_with_current_key_replaces_the_set_and_bumps_the_key() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    let before = sim.calendar(ALICE).unwrap();
    let custom = "<t:CanCreateItems>true</t:CanCreateItems><t:CanCreateSubFolders>false</t:CanCreateSubFolders>\
<t:IsFolderOwner>false</t:IsFolderOwner><t:IsFolderVisible>true</t:IsFolderVisible><t:IsFolderContact>false</t:IsFolderContact>\
<t:EditItems>All</t:EditItems><t:DeleteItems>All</t:DeleteItems><t:ReadItems>FullDetails</t:ReadItems>\
<t:CalendarPermissionLevel>Custom</t:CalendarPermissionLevel>";
    let permissions = [
        entry(DEFAULT, &level("FreeBusyTimeOnly")),
        entry(ANONYMOUS, &level("None")),
        entry(&smtp("bob@contoso.example"), &level("Editor")),
        // A Custom entry whose flags equal Editor is reported as Editor, as Exchange does.
        entry(&smtp("mytimetable-push@contoso.example"), custom),
        // The deleted user's SID can be carried over.
        entry(
            "<t:SID>S-1-5-21-3623811015-3361044348-30300820-1888</t:SID>",
            &level("Reviewer"),
        ),
    ]
    .concat();
    let response = call(
        &mut client,
        &envelope(
            Some(ALICE),
            &update_folder(&before.folder_id, &before.change_key, &permissions),
        ),
    )
    .await;
    assert_eq!(
        response_codes(&response.body),
        ["NoError"],
        "{}",
        response.body
    );
    let after = sim.calendar(ALICE).unwrap();
    assert_ne!(after.change_key, before.change_key);
    assert_eq!(change_key_in(&response.body).unwrap(), after.change_key);
    let users: Vec<(String, PermissionLevel)> = after
        .permissions
        .iter()
        .map(|view| (view.user.clone(), view.level))
        .collect();
    assert_eq!(
        users,
        vec![
            ("Default".to_string(), PermissionLevel::FreeBusyTimeOnly),
            ("Anonymous".to_string(), PermissionLevel::None),
            ("bob@contoso.example".to_string(), PermissionLevel::Editor),
            (
                "mytimetable-push@contoso.example".to_string(),
                PermissionLevel::Editor
            ),
            (
                "S-1-5-21-3623811015-3361044348-30300820-1888".to_string(),
                PermissionLevel::Reviewer
            ),
        ]
    );

    // The next GetFolder shows the new set and key.
    let read = call(&mut client, &get_folder_impersonating(ALICE)).await;
    assert_eq!(change_key_in(&read.body).unwrap(), after.change_key);
    assert!(!read.body.contains("carol@contoso.example"));
}

#[tokio::test]
async fn exchange_permission_rules_are_enforced() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    let calendar = sim.calendar(ALICE).unwrap();
    let anonymous = entry(ANONYMOUS, &level("None"));
    let cases = [
        (
            [
                entry(
                    "<t:PrimarySmtpAddress>bob@contoso.example</t:PrimarySmtpAddress><t:DistinguishedUser>Default</t:DistinguishedUser>",
                    &level("None"),
                ),
                anonymous.clone(),
            ]
            .concat(),
            "ErrorInvalidUserInfo",
        ),
        (
            [entry(DEFAULT, &level("None")), entry(DEFAULT, &level("Reviewer")), anonymous.clone()].concat(),
            "ErrorDuplicateUserIdsSpecified",
        ),
        (
            [
                entry(DEFAULT, &level("None")),
                anonymous.clone(),
                entry(
                    &smtp("bob@contoso.example"),
                    &format!("<t:EditItems>None</t:EditItems>{}", level("Editor")),
                ),
            ]
            .concat(),
            "ErrorInvalidPermissionSettings",
        ),
        (
            [entry(DEFAULT, &level("None")), anonymous.clone(), entry(&smtp("ghost@contoso.example"), &level("Reviewer"))]
                .concat(),
            "ErrorInvalidSmtpAddress",
        ),
        (
            [
                entry(DEFAULT, &level("None")),
                anonymous.clone(),
                entry("<t:SID>S-1-5-21-1-2-3-4242</t:SID>", &level("Reviewer")),
            ]
            .concat(),
            "ErrorInvalidUserSid",
        ),
    ];
    for (permissions, expected) in cases {
        let response = call(
            &mut client,
            &envelope(
                Some(ALICE),
                &update_folder(&calendar.folder_id, &calendar.change_key, &permissions),
            ),
        )
        .await;
        assert_eq!(response.status, 200);
        assert_eq!(response_codes(&response.body), [expected], "{permissions}");
    }
    assert_eq!(
        sim.calendar(ALICE).unwrap(),
        calendar,
        "refused updates change nothing"
    );

    // Wrong child order is a schema violation: a fault for the whole request.
    let wrong_order = [
        entry(DEFAULT, &level("None")),
        anonymous,
        entry(
            &smtp("bob@contoso.example"),
            "<t:CalendarPermissionLevel>Custom</t:CalendarPermissionLevel><t:CanCreateItems>true</t:CanCreateItems>",
        ),
    ]
    .concat();
    let response = call(
        &mut client,
        &envelope(
            Some(ALICE),
            &update_folder(&calendar.folder_id, &calendar.change_key, &wrong_order),
        ),
    )
    .await;
    assert_eq!(response.status, 500);
    assert!(response.body.contains("ErrorSchemaValidation"));
}

#[tokio::test]
async fn impersonation_denied_and_unknown_mailbox_are_faults() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    let denied = call(
        &mut client,
        &get_folder_impersonating("ceo@contoso.example"),
    )
    .await;
    assert_eq!(denied.status, 500);
    assert!(denied.body.contains("<s:Fault>"));
    assert!(denied.body.contains("a:ErrorImpersonateUserDenied"));
    let outside = call(
        &mut client,
        &get_folder_impersonating("someone@fabrikam.example"),
    )
    .await;
    assert_eq!(outside.status, 500);
    assert!(outside.body.contains("ErrorNonExistentMailbox"));
    let moving = call(
        &mut client,
        &get_folder_impersonating("moving@contoso.example"),
    )
    .await;
    assert_eq!(moving.status, 200);
    assert_eq!(response_codes(&moving.body), ["ErrorMailboxMoveInProgress"]);
}

fn get_folder_of(mailbox: &str, permission_set: bool) -> String {
    let additional = if permission_set {
        r#"<t:AdditionalProperties><t:FieldURI FieldURI="folder:PermissionSet"/></t:AdditionalProperties>"#
    } else {
        ""
    };
    format!(
        r#"<m:GetFolder><m:FolderShape><t:BaseShape>AllProperties</t:BaseShape>{additional}</m:FolderShape>
<m:FolderIds><t:DistinguishedFolderId Id="calendar"><t:Mailbox><t:EmailAddress>{mailbox}</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:FolderIds></m:GetFolder>"#
    )
}

#[tokio::test]
async fn delegate_access_uses_the_callers_rights() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    // Editor through the push group the service account belongs to.
    let granted = call(
        &mut client,
        &envelope(None, &get_folder_of("granted@contoso.example", false)),
    )
    .await;
    assert_eq!(response_codes(&granted.body), ["NoError"]);
    // The folder's PR_ACCESS: an Editor creates and reads items, but may not change or delete
    // the calendar folder itself (folder owners only).
    for (element, value) in [
        ("CreateContents", true),
        ("Read", true),
        ("Modify", false),
        ("Delete", false),
        ("CreateAssociated", false),
        ("CreateHierarchy", false),
    ] {
        assert!(
            granted
                .body
                .contains(&format!("<t:{element}>{value}</t:{element}>")),
            "{element} {value}: {}",
            granted.body
        );
    }
    assert!(!granted.body.contains("PermissionSet"));
    // Reviewer: visible, read but no modify.
    let reviewer = call(
        &mut client,
        &envelope(None, &get_folder_of("reviewer@contoso.example", false)),
    )
    .await;
    assert_eq!(response_codes(&reviewer.body), ["NoError"]);
    assert!(reviewer.body.contains("<t:Modify>false</t:Modify>"));
    assert!(reviewer.body.contains("<t:Read>true</t:Read>"));
    // Visible, but reading the ACL needs the folder-owner right.
    let acl = call(
        &mut client,
        &envelope(None, &get_folder_of("granted@contoso.example", true)),
    )
    .await;
    assert_eq!(response_codes(&acl.body), ["ErrorAccessDenied"]);
    // Default is FreeBusyTimeOnly: the folder is not visible.
    let plain = call(
        &mut client,
        &envelope(None, &get_folder_of("plain@contoso.example", false)),
    )
    .await;
    assert_eq!(response_codes(&plain.body), ["ErrorFolderNotFound"]);
    let missing = call(
        &mut client,
        &envelope(None, &get_folder_of("nobody@contoso.example", false)),
    )
    .await;
    assert_eq!(response_codes(&missing.body), ["ErrorNonExistentMailbox"]);
    // Without impersonation UpdateFolder is refused.
    let calendar = sim.calendar(ALICE).unwrap();
    let update = call(
        &mut client,
        &envelope(
            None,
            &update_folder(
                &calendar.folder_id,
                &calendar.change_key,
                &entry(DEFAULT, &level("None")),
            ),
        ),
    )
    .await;
    assert_eq!(response_codes(&update.body), ["ErrorAccessDenied"]);
}

/// Folder EffectiveRights is the folder's PR_ACCESS: Modify, Delete and CreateAssociated only
/// for a folder owner (the Owner level, or a Custom entry with IsFolderOwner).
#[tokio::test]
async fn only_a_folder_owner_may_modify_and_delete_the_folder() {
    let state = format!(
        "{}\n{}",
        sample_state(),
        r#"
[[mailboxes]]
smtp = "owned@contoso.example"
display_name = "Owen Owned"
permissions = [
  { user = "Default", level = "None" },
  { user = "mytimetable-push@contoso.example", level = "Owner" },
]

[[mailboxes]]
smtp = "flagged@contoso.example"
display_name = "Flo Flagged"
permissions = [
  { user = "Default", level = "None" },
  { user = "mytimetable-push@contoso.example", level = "Custom", flags = { is_folder_owner = true, is_folder_visible = true, read_items = "FullDetails" } },
]
"#
    );
    let sim = start_sim(&state).await;
    let mut client = logged_in_client(&sim).await;
    for (mailbox, create) in [
        ("owned@contoso.example", true),
        ("flagged@contoso.example", false),
    ] {
        let answer = call(&mut client, &envelope(None, &get_folder_of(mailbox, false))).await;
        assert_eq!(response_codes(&answer.body), ["NoError"], "{mailbox}");
        for (element, value) in [
            ("CreateAssociated", true),
            ("CreateContents", create),
            ("Delete", true),
            ("Modify", true),
            ("Read", true),
        ] {
            assert!(
                answer
                    .body
                    .contains(&format!("<t:{element}>{value}</t:{element}>")),
                "{mailbox}: {element} {value}: {}",
                answer.body
            );
        }
    }
}

#[tokio::test]
async fn get_folder_by_folder_id_finds_that_calendar() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    let calendar = sim.calendar(ALICE).unwrap();
    let body = format!(
        r#"<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:FolderId Id="{}"/><t:FolderId Id="AAAAnope"/></m:FolderIds></m:GetFolder>"#,
        calendar.folder_id
    );
    let response = call(&mut client, &envelope(Some(ALICE), &body)).await;
    assert_eq!(
        response_codes(&response.body),
        ["NoError", "ErrorFolderNotFound"]
    );
    assert!(response.body.contains(&calendar.change_key));
}

#[tokio::test]
async fn unknown_operation_is_a_fault() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    let response = call(
        &mut client,
        &envelope(Some(ALICE), "<m:GetUserOofSettingsRequest/>"),
    )
    .await;
    assert_eq!(response.status, 500);
    assert!(response.body.contains("ErrorInvalidRequest"));
    let garbage = call(&mut client, "<not-soap").await;
    assert_eq!(garbage.status, 500);
    assert!(garbage.body.contains("ErrorSchemaValidation"));
}

fn delegate_user(address: &str, calendar: &str) -> String {
    format!(
        "<t:DelegateUser><t:UserId>{}</t:UserId><t:DelegatePermissions><t:CalendarFolderPermissionLevel>{calendar}</t:CalendarFolderPermissionLevel></t:DelegatePermissions><t:ReceiveCopiesOfMeetingMessages>false</t:ReceiveCopiesOfMeetingMessages><t:ViewPrivateItems>false</t:ViewPrivateItems></t:DelegateUser>",
        smtp(address)
    )
}

fn mailbox_element(address: &str) -> String {
    format!("<m:Mailbox><t:EmailAddress>{address}</t:EmailAddress></m:Mailbox>")
}

#[tokio::test]
async fn delegate_lifecycle() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    let get = |filter: &str| {
        format!(
            r#"<m:GetDelegate IncludePermissions="true">{}{filter}</m:GetDelegate>"#,
            mailbox_element(ALICE)
        )
    };
    let listed = call(&mut client, &envelope(Some(ALICE), &get(""))).await;
    assert_eq!(response_codes(&listed.body), ["NoError", "NoError"]);
    assert!(
        listed
            .body
            .contains("<t:CalendarFolderPermissionLevel>Editor</t:CalendarFolderPermissionLevel>")
    );
    assert!(listed.body.contains(
        "<m:DeliverMeetingRequests>DelegatesAndSendInformationToMe</m:DeliverMeetingRequests>"
    ));

    let carol_filter = format!(
        "<m:UserIds><t:UserId>{}</t:UserId></m:UserIds>",
        smtp("carol@contoso.example")
    );
    let not_yet = call(&mut client, &envelope(Some(ALICE), &get(&carol_filter))).await;
    assert_eq!(
        response_codes(&not_yet.body),
        ["NoError", "ErrorNotDelegate"]
    );

    let add = format!(
        "<m:AddDelegate>{}<m:DelegateUsers>{}{}{}</m:DelegateUsers></m:AddDelegate>",
        mailbox_element(ALICE),
        delegate_user("carol@contoso.example", "Reviewer"),
        delegate_user("bob@contoso.example", "Editor"),
        delegate_user("ghost@contoso.example", "Editor"),
    );
    let key_before = sim.calendar(ALICE).unwrap().change_key;
    let added = call(&mut client, &envelope(Some(ALICE), &add)).await;
    assert_eq!(
        response_codes(&added.body),
        [
            "NoError",
            "NoError",
            "ErrorDelegateAlreadyExists",
            "ErrorDelegateNoUser"
        ]
    );
    assert_ne!(
        sim.calendar(ALICE).unwrap().change_key,
        key_before,
        "the ACL changed"
    );

    let update = format!(
        "<m:UpdateDelegate>{}<m:DelegateUsers>{}{}</m:DelegateUsers></m:UpdateDelegate>",
        mailbox_element(ALICE),
        delegate_user("carol@contoso.example", "Editor"),
        delegate_user("plain@contoso.example", "Editor"),
    );
    let updated = call(&mut client, &envelope(Some(ALICE), &update)).await;
    assert_eq!(
        response_codes(&updated.body),
        ["NoError", "NoError", "ErrorNotDelegate"]
    );
    let carol = sim
        .permissions(ALICE)
        .unwrap()
        .into_iter()
        .find(|view| view.user == "carol@contoso.example")
        .unwrap();
    assert_eq!(carol.level, PermissionLevel::Editor);

    let remove = format!(
        "<m:RemoveDelegate>{}<m:UserIds><t:UserId>{}</t:UserId><t:UserId>{}</t:UserId></m:UserIds></m:RemoveDelegate>",
        mailbox_element(ALICE),
        smtp("carol@contoso.example"),
        smtp("plain@contoso.example"),
    );
    let removed = call(&mut client, &envelope(Some(ALICE), &remove)).await;
    assert_eq!(
        response_codes(&removed.body),
        ["NoError", "NoError", "ErrorNotDelegate"]
    );
    assert!(
        !sim.permissions(ALICE)
            .unwrap()
            .iter()
            .any(|view| view.user == "carol@contoso.example")
    );

    let none = call(
        &mut client,
        &envelope(
            Some("plain@contoso.example"),
            &format!(
                r#"<m:GetDelegate IncludePermissions="true">{}</m:GetDelegate>"#,
                mailbox_element("plain@contoso.example")
            ),
        ),
    )
    .await;
    assert_eq!(response_codes(&none.body), ["NoError"]);
    assert!(!none.body.contains("ResponseMessages"));

    let missing = call(
        &mut client,
        &envelope(
            Some(ALICE),
            &format!(
                r#"<m:GetDelegate IncludePermissions="true">{}</m:GetDelegate>"#,
                mailbox_element("nobody@contoso.example")
            ),
        ),
    )
    .await;
    assert_eq!(response_codes(&missing.body), ["ErrorNonExistentMailbox"]);
}

#[tokio::test]
async fn permissions_are_inspectable_over_http() {
    let sim = start_sim(&sample_state()).await;
    let mut client = RawClient::connect(&sim).await;
    let response = client
        .request(
            "GET",
            "/sim/mailboxes/alice@contoso.example/permissions",
            &[],
            "",
        )
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    let json: serde_json::Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(
        json["changeKey"],
        "AgAAABQAAADdSHmw1oJ8Rbb0wNVq3vFcAAAAAAJr"
    );
    let users: Vec<&str> = json["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["user"].as_str().unwrap())
        .collect();
    assert_eq!(
        users,
        [
            "Default",
            "Anonymous",
            "bob@contoso.example",
            "carol@contoso.example",
            "planners@contoso.example",
            "dave@contoso.example",
            "S-1-5-21-3623811015-3361044348-30300820-1888"
        ]
    );
    assert_eq!(json["permissions"][5]["level"], "Custom");
    let missing = client
        .request(
            "GET",
            "/sim/mailboxes/nobody@contoso.example/permissions",
            &[],
            "",
        )
        .await
        .unwrap();
    assert_eq!(missing.status, 404);
}

fn ews_fixture(path: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/fixtures/ews/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[tokio::test]
async fn static_errors_are_the_ews_fixture_bytes() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    let calendar = sim.calendar(ALICE).unwrap();
    let stale = call(
        &mut client,
        &envelope(
            Some(ALICE),
            &update_folder(
                &calendar.folder_id,
                "stale",
                &entry(DEFAULT, &level("None")),
            ),
        ),
    )
    .await;
    assert_eq!(
        stale.body,
        ews_fixture("update_folder/error_irresolvable_conflict.xml")
    );
    let denied = call(
        &mut client,
        &get_folder_impersonating("ceo@contoso.example"),
    )
    .await;
    assert_eq!(
        denied.body,
        ews_fixture("soap_fault/error_impersonate_user_denied.xml")
    );
    let moving = call(
        &mut client,
        &get_folder_impersonating("moving@contoso.example"),
    )
    .await;
    assert_eq!(
        moving.body,
        ews_fixture("get_folder/error_mailbox_move_in_progress.xml")
    );
    let missing = call(
        &mut client,
        &envelope(None, &get_folder_of("nobody@contoso.example", false)),
    )
    .await;
    assert_eq!(
        missing.body,
        ews_fixture("get_folder/error_non_existent_mailbox.xml")
    );
    let remove = format!(
        "<m:RemoveDelegate>{}<m:UserIds><t:UserId>{}</t:UserId></m:UserIds></m:RemoveDelegate>",
        mailbox_element(ALICE),
        smtp("carol@contoso.example"),
    );
    let not_delegate = call(&mut client, &envelope(Some(ALICE), &remove)).await;
    assert_eq!(
        not_delegate.body,
        ews_fixture("remove_delegate/error_not_delegate.xml")
    );

    sim.push_fault(ews_connector::sim::ScriptedFault::once(
        ews_connector::sim::FaultKind::ServerBusy { back_off_ms: 777 },
    ));
    let busy = call(&mut client, &get_folder_impersonating(ALICE)).await;
    let expected = ews_fixture("soap_fault/error_server_busy.xml").replace(
        "<t:Value Name=\"BackOffMilliseconds\">45000</t:Value>",
        "<t:Value Name=\"BackOffMilliseconds\">777</t:Value>",
    );
    assert_eq!(busy.body, expected);
}

/// Erin's calendar holds what the connector does not model. GetFolder shows a cross-organization
/// user by `t:ExternalUserIdentity`, an empty `t:UserId` and the deleted account under
/// `t:UnknownEntries`. An UpdateFolder may carry the first two over as read (they stay, byte for
/// byte), may not add new ones, and deletes the UnknownEntries whatever it sends: Exchange's
/// documented rule for any rewrite of the set.
#[tokio::test]
async fn unmodelled_entries_are_shown_carried_over_as_read_and_unknown_entries_die_on_rewrite() {
    const ERIN: &str = "erin@contoso.example";
    const EXTERNAL: &str = "<t:ExternalUserIdentity>ExchangePublishedUser.partner@fabrikam.example</t:ExternalUserIdentity>";
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    let read = call(&mut client, &get_folder_impersonating(ERIN)).await;
    assert!(
        read.body.contains(
            "<t:UserId>\n                      <t:DisplayName>ExchangePublishedUser.partner@fabrikam.example</t:DisplayName>\n                      <t:ExternalUserIdentity>ExchangePublishedUser.partner@fabrikam.example</t:ExternalUserIdentity>\n                    </t:UserId>"
        ),
        "{}",
        read.body
    );
    assert!(read.body.contains("<t:UserId/>"), "{}", read.body);
    assert!(
        read.body.contains(
            "<t:UnknownEntry>NT:S-1-5-21-3623811015-3361044348-30300820-1999</t:UnknownEntry>"
        ),
        "{}",
        read.body
    );
    let before = sim.calendar(ERIN).unwrap();
    let empty_custom = "<t:IsFolderVisible>true</t:IsFolderVisible><t:ReadItems>TimeOnly</t:ReadItems>\
<t:CalendarPermissionLevel>Custom</t:CalendarPermissionLevel>";
    let kept = [
        entry(DEFAULT, &level("FreeBusyTimeOnly")),
        entry(ANONYMOUS, &level("None")),
        entry(EXTERNAL, &level("Reviewer")),
        "<t:CalendarPermission><t:UserId/>".to_owned() + empty_custom + "</t:CalendarPermission>",
    ]
    .concat();

    // New unmodelled entries are refused and change nothing.
    for (extra, code) in [
        (
            entry(
                "<t:ExternalUserIdentity>ExchangePublishedUser.other@fabrikam.example</t:ExternalUserIdentity>",
                &level("Reviewer"),
            ),
            "ErrorUserNotAllowedByPolicy",
        ),
        (
            entry("<t:DisplayName>Nobody</t:DisplayName>", &level("Reviewer")),
            "ErrorDuplicateUserIdsSpecified",
        ),
    ] {
        let permissions = kept.clone() + &extra;
        let response = call(
            &mut client,
            &envelope(
                Some(ERIN),
                &update_folder(&before.folder_id, &before.change_key, &permissions),
            ),
        )
        .await;
        assert_eq!(response_codes(&response.body), [code], "{}", response.body);
        assert_eq!(sim.calendar(ERIN).unwrap(), before);
    }

    // Carried over as read, plus a new entry: they stay, the unknown entry is gone.
    let permissions = kept.clone() + &entry(&smtp("bob@contoso.example"), &level("Editor"));
    let response = call(
        &mut client,
        &envelope(
            Some(ERIN),
            &update_folder(&before.folder_id, &before.change_key, &permissions),
        ),
    )
    .await;
    assert_eq!(
        response_codes(&response.body),
        ["NoError"],
        "{}",
        response.body
    );
    let after = sim.calendar(ERIN).unwrap();
    assert_eq!(after.permissions[..4], before.permissions[..4]);
    assert_eq!(
        after.permissions[2].user,
        "external:ExchangePublishedUser.partner@fabrikam.example"
    );
    assert_eq!(after.permissions[3].user, "");
    assert_eq!(after.permissions[4].user, "bob@contoso.example");
    assert!(after.unknown_entries.is_empty(), "a rewrite deletes them");
    let reread = call(&mut client, &get_folder_impersonating(ERIN)).await;
    assert!(reread.body.contains(EXTERNAL));
    assert!(reread.body.contains("<t:UserId/>"));
    assert!(!reread.body.contains("UnknownEntries"));
}

/// The load bench counts EWS requests per checked mailbox without the readiness probes: the
/// simulator counts apart the requests that name no mailbox (the caller's own), and only those.
#[tokio::test]
async fn requests_naming_no_mailbox_are_counted_apart() {
    let sim = start_sim(&sample_state()).await;
    // The login request impersonates granted@: it names a mailbox.
    let mut client = logged_in_client(&sim).await;
    assert_eq!(sim.stats().own_mailbox_requests, 0);
    // Delegate access to another mailbox's calendar names it.
    let delegate = call(
        &mut client,
        &envelope(None, &get_folder_of("granted@contoso.example", false)),
    )
    .await;
    assert_eq!(delegate.status, 200, "{}", delegate.body);
    // ExpandDL names the group.
    let expand = call(
        &mut client,
        &envelope(
            None,
            "<m:ExpandDL><m:Mailbox><t:EmailAddress>mytimetable-push@contoso.example</t:EmailAddress></m:Mailbox></m:ExpandDL>",
        ),
    )
    .await;
    assert_eq!(expand.status, 200, "{}", expand.body);
    assert_eq!(sim.stats().own_mailbox_requests, 0);
    // The service account's own calendar, as the readiness probe reads it: counted, twice.
    let own = format!(
        r#"<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds>{}</m:FolderIds></m:GetFolder>"#,
        calendar_folder(None)
    );
    for _ in 0..2 {
        let answer = call(&mut client, &envelope(None, &own)).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let stats = sim.stats();
    assert_eq!(stats.own_mailbox_requests, 2);
    assert_eq!(
        stats.requests("GetFolder"),
        4,
        "all of them are still counted"
    );
    assert_eq!(stats.requests("ExpandDL"), 1);
    // And over HTTP, under the name the load bench reads.
    let response = client.request("GET", "/sim/stats", &[], "").await.unwrap();
    let json: serde_json::Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(json["ownMailboxRequests"], 2);
}
