//! The simulator's answers are schema-valid EWS: every template is rendered with the sample
//! state (through real requests) and validated with `../shared/ews-schema/validate.sh`; and the
//! schema-invalid sample requests of `../shared/ews-schema/samples/invalid/` are refused.
//!
//! Without `../shared` (or `$EWS_SCHEMA_DIR`) or `xmllint` these tests print why and skip; with
//! `CI=true` they fail instead.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::sim::*;

const ALICE: &str = "alice@contoso.example";

/// The schema directory holding `validate.sh`, or `None` after printing why it is skipped.
fn schema_dir(test: &str) -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("EWS_SCHEMA_DIR").map(PathBuf::from),
        Some(PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/wsdl"))),
        Some(PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/ews-schema"
        ))),
    ];
    let found = candidates
        .into_iter()
        .flatten()
        .find(|dir| dir.join("validate.sh").is_file());
    let xmllint = Command::new("xmllint").arg("--version").output().is_ok();
    let missing = match (&found, xmllint) {
        (None, _) => Some("no validate.sh in $EWS_SCHEMA_DIR, wsdl/ or ../shared/ews-schema"),
        (Some(_), false) => Some("xmllint is not installed (apt-get install libxml2-utils)"),
        _ => None,
    };
    if let Some(reason) = missing {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{test}: {reason}; required under CI=true");
        }
        eprintln!("SKIPPED {test}: {reason}");
        return None;
    }
    found
}

fn folder_ids_body() -> String {
    r#"<m:GetFolder><m:FolderShape><t:BaseShape>AllProperties</t:BaseShape></m:FolderShape><m:FolderIds>
<t:DistinguishedFolderId Id="calendar"><t:Mailbox><t:EmailAddress>plain@contoso.example</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId>
<t:DistinguishedFolderId Id="calendar"><t:Mailbox><t:EmailAddress>nobody@contoso.example</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId>
<t:DistinguishedFolderId Id="calendar"><t:Mailbox><t:EmailAddress>moving@contoso.example</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId>
<t:DistinguishedFolderId Id="calendar"><t:Mailbox><t:EmailAddress>reviewer@contoso.example</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId>
</m:FolderIds></m:GetFolder>"#
        .to_string()
}

fn mailbox(address: &str) -> String {
    format!("<m:Mailbox><t:EmailAddress>{address}</t:EmailAddress></m:Mailbox>")
}

fn delegate_user(address: &str) -> String {
    format!(
        "<t:DelegateUser><t:UserId><t:PrimarySmtpAddress>{address}</t:PrimarySmtpAddress></t:UserId><t:DelegatePermissions><t:CalendarFolderPermissionLevel>Reviewer</t:CalendarFolderPermissionLevel><t:TasksFolderPermissionLevel>None</t:TasksFolderPermissionLevel></t:DelegatePermissions><t:ReceiveCopiesOfMeetingMessages>true</t:ReceiveCopiesOfMeetingMessages><t:ViewPrivateItems>false</t:ViewPrivateItems></t:DelegateUser>"
    )
}

#[tokio::test]
async fn rendered_answers_validate_against_the_schema() {
    let Some(schema) = schema_dir("rendered_answers_validate_against_the_schema") else {
        return;
    };
    // A group with a nested group, so ExpandDL renders both member types.
    let sim = start_sim(&format!(
        "{}\n[[groups]]\nsmtp = \"push-editors@contoso.example\"\ndisplay_name = \"Push <Editors> & Co\"\nmembers = [\"mytimetable-push@contoso.example\", \"dave@contoso.example\"]\n",
        sample_state()
    ))
    .await;
    let mut client = logged_in_client(&sim).await;
    let calendar = sim.calendar(ALICE).unwrap();
    let update = |change_key: &str| {
        format!(
            r#"<m:UpdateFolder><m:FolderChanges><t:FolderChange><t:FolderId Id="{}" ChangeKey="{change_key}"/><t:Updates><t:SetFolderField><t:FieldURI FieldURI="folder:PermissionSet"/><t:CalendarFolder><t:PermissionSet><t:CalendarPermissions><t:CalendarPermission><t:UserId><t:DistinguishedUser>Default</t:DistinguishedUser></t:UserId><t:CalendarPermissionLevel>None</t:CalendarPermissionLevel></t:CalendarPermission></t:CalendarPermissions></t:PermissionSet></t:CalendarFolder></t:SetFolderField></t:Updates></t:FolderChange></m:FolderChanges></m:UpdateFolder>"#,
            calendar.folder_id
        )
    };
    let requests: Vec<(&str, String)> = vec![
        ("get_folder_owner_full_set", get_folder_impersonating(ALICE)),
        (
            "get_folder_external_empty_and_unknown_entries",
            get_folder_impersonating("erin@contoso.example"),
        ),
        (
            "get_folder_errors_and_delegate_access",
            envelope(None, &folder_ids_body()),
        ),
        (
            "update_folder_conflict",
            envelope(Some(ALICE), &update("stale")),
        ),
        (
            "get_folder_alias_by_delegate_access",
            envelope(
                None,
                &folder_ids_body().replace("plain@contoso.example", "grace@contoso.example"),
            ),
        ),
        (
            "get_folder_moved_to_cloud",
            get_folder_impersonating("moved@contoso.example"),
        ),
        (
            "get_delegate_with_permissions",
            envelope(
                Some(ALICE),
                &format!(
                    r#"<m:GetDelegate IncludePermissions="true">{}</m:GetDelegate>"#,
                    mailbox(ALICE)
                ),
            ),
        ),
        (
            "get_delegate_none",
            envelope(
                Some("plain@contoso.example"),
                &format!(
                    r#"<m:GetDelegate IncludePermissions="true">{}</m:GetDelegate>"#,
                    mailbox("plain@contoso.example")
                ),
            ),
        ),
        (
            "add_delegate_mixed",
            envelope(
                Some(ALICE),
                &format!(
                    "<m:AddDelegate>{}<m:DelegateUsers>{}{}{}</m:DelegateUsers></m:AddDelegate>",
                    mailbox(ALICE),
                    delegate_user("carol@contoso.example"),
                    delegate_user("bob@contoso.example"),
                    delegate_user("ghost@contoso.example")
                ),
            ),
        ),
        (
            "update_delegate",
            envelope(
                Some(ALICE),
                &format!(
                    "<m:UpdateDelegate>{}<m:DelegateUsers>{}{}</m:DelegateUsers></m:UpdateDelegate>",
                    mailbox(ALICE),
                    delegate_user("carol@contoso.example"),
                    delegate_user("plain@contoso.example")
                ),
            ),
        ),
        (
            "remove_delegate",
            envelope(
                Some(ALICE),
                &format!(
                    "<m:RemoveDelegate>{}<m:UserIds><t:UserId><t:PrimarySmtpAddress>carol@contoso.example</t:PrimarySmtpAddress></t:UserId><t:UserId><t:PrimarySmtpAddress>plain@contoso.example</t:PrimarySmtpAddress></t:UserId></m:UserIds></m:RemoveDelegate>",
                    mailbox(ALICE)
                ),
            ),
        ),
        (
            "delegate_outer_error",
            envelope(
                Some(ALICE),
                &format!(
                    r#"<m:GetDelegate IncludePermissions="false">{}</m:GetDelegate>"#,
                    mailbox("nobody@contoso.example")
                ),
            ),
        ),
        (
            "expand_dl_nested",
            envelope(
                None,
                &format!(
                    "<m:ExpandDL>{}</m:ExpandDL>",
                    mailbox("push-editors@contoso.example")
                ),
            ),
        ),
        (
            "expand_dl_unknown",
            envelope(
                None,
                &format!(
                    "<m:ExpandDL>{}</m:ExpandDL>",
                    mailbox("nobody@contoso.example")
                ),
            ),
        ),
        (
            "fault_impersonate_user_denied",
            get_folder_impersonating("ceo@contoso.example"),
        ),
        (
            "fault_invalid_request",
            envelope(Some(ALICE), "<m:ResolveNames/>"),
        ),
        (
            "fault_non_primary_smtp_address",
            get_folder_impersonating("grace@contoso.example"),
        ),
    ];
    let directory = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, request) in &requests {
        let response = call(&mut client, request).await;
        assert!(
            response.body.contains("Envelope"),
            "{name}: {}",
            response.body
        );
        let path = directory.path().join(format!("{name}.xml"));
        std::fs::write(&path, &response.body).unwrap();
        files.push(path);
    }
    // The successful UpdateFolder (with the current key) and a throttling fault.
    let current_key = sim.calendar(ALICE).unwrap().change_key;
    let response = call(&mut client, &envelope(Some(ALICE), &update(&current_key))).await;
    assert!(response.body.contains("NoError"), "{}", response.body);
    let path = directory.path().join("update_folder_success.xml");
    std::fs::write(&path, &response.body).unwrap();
    files.push(path);
    sim.push_fault(ews_connector::sim::ScriptedFault::once(
        ews_connector::sim::FaultKind::ServerBusy { back_off_ms: 30000 },
    ));
    let response = call(&mut client, &get_folder_impersonating(ALICE)).await;
    let path = directory.path().join("fault_server_busy.xml");
    std::fs::write(&path, &response.body).unwrap();
    files.push(path);

    validate(&schema, &files);
}

fn validate(schema: &std::path::Path, files: &[PathBuf]) {
    let output = Command::new("bash")
        .arg(schema.join("validate.sh"))
        .args(files)
        .output()
        .expect("validate.sh runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "schema validation failed:\n{stdout}\n{stderr}"
    );
    assert_eq!(stdout.matches("validates").count(), files.len(), "{stdout}");
}

/// Every item template (FindItem with both views, GetItem, CreateItem, UpdateItem, DeleteItem;
/// successes with every stored field, and errors with and without `m:Items`) rendered with the
/// sample state, validated against the schema.
#[tokio::test]
async fn rendered_item_answers_validate_against_the_schema() {
    let Some(schema) = schema_dir("rendered_item_answers_validate_against_the_schema") else {
        return;
    };
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    let all_fields = r#"<t:FieldURI FieldURI="item:Subject"/><t:FieldURI FieldURI="item:Body"/><t:FieldURI FieldURI="item:Categories"/><t:FieldURI FieldURI="item:ReminderIsSet"/><t:FieldURI FieldURI="item:ReminderMinutesBeforeStart"/><t:FieldURI FieldURI="calendar:Start"/><t:FieldURI FieldURI="calendar:End"/><t:FieldURI FieldURI="calendar:IsAllDayEvent"/><t:FieldURI FieldURI="calendar:LegacyFreeBusyStatus"/><t:FieldURI FieldURI="calendar:Location"/><t:FieldURI FieldURI="calendar:CalendarItemType"/><t:FieldURI FieldURI="calendar:StartTimeZone"/><t:FieldURI FieldURI="calendar:EndTimeZone"/>"#;
    let private_uri = r#"<t:ExtendedFieldURI PropertySetId="C11FF724-AA03-4555-9952-8FA248A11C3E" PropertyName="CalSyncExternalId" PropertyType="String"/>"#;
    let created = call(
        &mut client,
        &envelope(
            Some(ALICE),
            &create_items(
                &calendar_folder(None),
                Some("SendToNone"),
                &[
                    pushed_item(
                        "Lecture",
                        "2025-03-04T08:00:00Z",
                        "2025-03-04T10:00:00Z",
                        "v:1",
                    ),
                    pushed_item(
                        "Backwards",
                        "2025-03-04T10:00:00Z",
                        "2025-03-04T08:00:00Z",
                        "v:2",
                    ),
                ],
            ),
        ),
    )
    .await;
    let (id, key) = item_ids_in(&created.body).remove(0);
    let view = calendar_view(
        &calendar_folder(None),
        "2025-03-01T00:00:00Z",
        "2025-04-01T00:00:00Z",
        Some(3),
    )
    .replace(
        r#"<t:FieldURI FieldURI="item:Subject"/><t:FieldURI FieldURI="calendar:Start"/><t:FieldURI FieldURI="calendar:End"/>"#,
        &format!("{all_fields}{EXTERNAL_ID_URI}{private_uri}"),
    );
    let get = get_items(&[&id, "AAMkAGhvc3Q="]).replace(
        "<t:BaseShape>IdOnly</t:BaseShape>",
        "<t:BaseShape>AllProperties</t:BaseShape>",
    );
    let update = |change_key: &str| {
        format!(
            r#"<m:UpdateItem ConflictResolution="NeverOverwrite" SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges><t:ItemChange><t:ItemId Id="{id}" ChangeKey="{change_key}"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="item:Subject"/><t:CalendarItem><t:Subject>Lecture (moved)</t:Subject></t:CalendarItem></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>"#
        )
    };
    let requests: Vec<(&str, String)> = vec![
        ("create_item_mixed", created.body.clone()),
        ("find_item_calendar_view", envelope(Some(ALICE), &view)),
        (
            "find_item_indexed",
            envelope(
                Some(ALICE),
                &find_by_external_id(&calendar_folder(None), "v:1"),
            ),
        ),
        (
            "find_item_error",
            envelope(
                None,
                &find_by_external_id(&calendar_folder(Some("plain@contoso.example")), "v:1"),
            ),
        ),
        ("get_item_mixed", envelope(Some(ALICE), &get)),
        (
            "find_item_effective_rights",
            envelope(
                None,
                &view.replacen(
                    r#"<t:FieldURI FieldURI="calendar:Start"/>"#,
                    r#"<t:FieldURI FieldURI="item:EffectiveRights"/><t:FieldURI FieldURI="calendar:Start"/>"#,
                    1,
                )
                .replace(&calendar_folder(None), &calendar_folder(Some("granted@contoso.example"))),
            ),
        ),
        (
            "update_item_conflict",
            envelope(Some(ALICE), &update("stale")),
        ),
        ("update_item_success", envelope(Some(ALICE), &update(&key))),
        (
            "delete_item_mixed",
            envelope(Some(ALICE), &delete_items(&[&id, &id], true)),
        ),
        (
            "create_item_moved_to_cloud",
            envelope(
                Some("moved@contoso.example"),
                &create_items(
                    &calendar_folder(None),
                    Some("SendToNone"),
                    &[pushed_item(
                        "Lecture",
                        "2025-03-04T08:00:00Z",
                        "2025-03-04T10:00:00Z",
                        "v:3",
                    )],
                ),
            ),
        ),
    ];
    let directory = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, request) in &requests {
        let body = if *name == "create_item_mixed" {
            request.clone()
        } else {
            call(&mut client, request).await.body
        };
        assert!(body.contains("ResponseMessages"), "{name}: {body}");
        let path = directory.path().join(format!("{name}.xml"));
        std::fs::write(&path, &body).unwrap();
        files.push(path);
    }
    let view_answer = std::fs::read_to_string(&files[1]).unwrap();
    for element in [
        "<t:Body BodyType=\"Text\">",
        "<t:Categories>",
        "<t:ExtendedProperty>",
        "<t:StartTimeZone Id=",
        "IncludesLastItemInRange=\"false\"",
    ] {
        assert!(view_answer.contains(element), "{element}: {view_answer}");
    }
    let rights_answer = std::fs::read_to_string(
        files
            .iter()
            .find(|path| path.ends_with("find_item_effective_rights.xml"))
            .unwrap(),
    )
    .unwrap();
    assert!(
        rights_answer.contains("<t:EffectiveRights>"),
        "{rights_answer}"
    );
    validate(&schema, &files);
}

#[tokio::test]
async fn schema_invalid_sample_requests_are_refused() {
    let Some(schema) = schema_dir("schema_invalid_sample_requests_are_refused") else {
        return;
    };
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    let names = [
        "CreateItem-ExtendedProperty-after-Start.request.xml",
        "FindItem-PropertySetId-with-braces.request.xml",
        "GetFolder-RequestServerVersion-Exchange2019.request.xml",
        "GetFolder-https-soap-namespace.request.xml",
        "UpdateFolder-CalendarPermission-wrong-order.request.xml",
        "UpdateFolder-CanCreateSubfolders-case.request.xml",
        "UpdateFolder-generic-Permission-in-CalendarFolder.request.xml",
    ];
    let key_before = sim.calendar(ALICE).unwrap().change_key;
    let items_before = sim.calendar_items(ALICE).unwrap();
    for name in names {
        let request = std::fs::read_to_string(schema.join("samples/invalid").join(name)).unwrap();
        let response = call(&mut client, &request).await;
        assert_eq!(response.status, 500, "{name}: {}", response.body);
        assert!(
            response.body.contains("ErrorSchemaValidation"),
            "{name}: {}",
            response.body
        );
    }
    assert_eq!(sim.calendar(ALICE).unwrap().change_key, key_before);
    assert_eq!(sim.calendar_items(ALICE).unwrap(), items_before);
}

/// Microsoft-shaped sample requests (`../shared/ews-schema/samples/*Item*.request.xml`) are
/// answered as the sample responses show, and the answers validate.
#[tokio::test]
async fn sample_item_requests_are_answered_like_the_sample_responses() {
    let Some(schema) = schema_dir("sample_item_requests_are_answered_like_the_sample_responses")
    else {
        return;
    };
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    let sample = |name: &str| std::fs::read_to_string(schema.join("samples").join(name)).unwrap();
    let directory = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut answer = async |name: &str, client: &mut RawClient| {
        let response = call(client, &sample(name)).await;
        assert_eq!(response.status, 200, "{name}: {}", response.body);
        let path = directory.path().join(name.replace("request", "answer"));
        std::fs::write(&path, &response.body).unwrap();
        files.push(path);
        response
    };

    let created = answer("CreateItem-CalendarItem-batch.request.xml", &mut client).await;
    assert_eq!(
        response_codes(&created.body),
        ["NoError", "ErrorCalendarEndDateIsEarlierThanStartDate"]
    );
    let (created_id, _) = item_ids_in(&created.body).remove(0);
    let view = answer("FindItem-CalendarView.request.xml", &mut client).await;
    assert_eq!(response_codes(&view.body), ["NoError"]);
    assert!(
        view.body
            .contains("<t:Value>crm:event:7f3c2a10-5b8e-4d2a-9c61-0e4f2b7d9a13</t:Value>")
    );
    let found = answer("FindItem-by-external-id.request.xml", &mut client).await;
    let found_ids: Vec<String> = item_ids_in(&found.body)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(found_ids, [created_id]);

    // The samples' fixed ids: one of them exists (seeded with a newer ChangeKey), one does not.
    let seeded_id = "AAMkADQ3ZjI5NDlmLTJhMmQtNDkzZi04MzgwLTNjMTcwMzQ0ODg1NQBGAAAAAABvEzOz2ngdS4fM7nrrVaC9BwBc8+7mKqWbRIvwLpGPX3RsAAAAAAENAABc8+7mKqWbRIvwLpGPX3RsAAAbq1RMAAA=";
    let start = chrono::DateTime::parse_from_rfc3339("2025-03-04T08:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let mut seeded = ews_connector::sim::SimItem::new(start, start + chrono::Duration::hours(8));
    seeded.item_id = seeded_id.to_string();
    sim.insert_item(ALICE, seeded).unwrap();
    let updated = answer("UpdateItem-CalendarItem.request.xml", &mut client).await;
    assert_eq!(response_codes(&updated.body), ["ErrorIrresolvableConflict"]);
    let deleted = answer("DeleteItem-CalendarItem.request.xml", &mut client).await;
    assert_eq!(
        response_codes(&deleted.body),
        ["NoError", "ErrorItemNotFound"]
    );
    assert!(
        !sim.calendar_items(ALICE)
            .unwrap()
            .iter()
            .any(|item| item.item_id == seeded_id)
    );
    validate(&schema, &files);
}
