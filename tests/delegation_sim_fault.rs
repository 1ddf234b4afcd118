//! The simulator's `concurrent_write` fault on the wire: another writer changes the calendar's
//! permission set just before an UpdateFolder is processed, so the UpdateFolder (based on an
//! earlier read) is refused with `ErrorIrresolvableConflict` and the other writer's change stays.

mod common;

use ews_connector::sim::{FaultKind, PermissionLevel, ScriptedFault};

use common::sim::*;

const ALICE: &str = "alice@contoso.example";

fn update_folder(change_key: &str, folder_id: &str) -> String {
    envelope(
        Some(ALICE),
        &format!(
            r#"<m:UpdateFolder><m:FolderChanges><t:FolderChange>
<t:FolderId Id="{folder_id}" ChangeKey="{change_key}"/>
<t:Updates><t:SetFolderField><t:FieldURI FieldURI="folder:PermissionSet"/>
<t:CalendarFolder><t:PermissionSet><t:CalendarPermissions>
<t:CalendarPermission><t:UserId><t:DistinguishedUser>Default</t:DistinguishedUser></t:UserId><t:CalendarPermissionLevel>FreeBusyTimeOnly</t:CalendarPermissionLevel></t:CalendarPermission>
<t:CalendarPermission><t:UserId><t:DistinguishedUser>Anonymous</t:DistinguishedUser></t:UserId><t:CalendarPermissionLevel>None</t:CalendarPermissionLevel></t:CalendarPermission>
</t:CalendarPermissions></t:PermissionSet></t:CalendarFolder>
</t:SetFolderField></t:Updates>
</t:FolderChange></m:FolderChanges></m:UpdateFolder>"#
        ),
    )
}

#[tokio::test]
async fn concurrent_write_lands_first_and_the_update_gets_a_conflict() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    let read = call(&mut client, &get_folder_impersonating(ALICE)).await;
    assert_eq!(read.status, 200);
    let change_key = change_key_in(&read.body).expect("a ChangeKey");
    let calendar = sim.calendar(ALICE).unwrap();
    assert_eq!(change_key, calendar.change_key);

    sim.push_fault(ScriptedFault {
        operation: Some("UpdateFolder".to_owned()),
        mailbox: Some(ALICE.to_owned()),
        count: 1,
        kind: FaultKind::ConcurrentWrite {
            user: "carol@contoso.example".to_owned(),
            level: PermissionLevel::Owner,
        },
    });
    // A GetFolder does not match the fault's operation and leaves it queued.
    let reread = call(&mut client, &get_folder_impersonating(ALICE)).await;
    assert_eq!(change_key_in(&reread.body), Some(change_key.clone()));

    let answer = call(
        &mut client,
        &update_folder(&change_key, &calendar.folder_id),
    )
    .await;
    assert_eq!(answer.status, 200);
    assert!(
        response_codes(&answer.body).contains(&"ErrorIrresolvableConflict".to_owned()),
        "{}",
        answer.body
    );
    let after = sim.calendar(ALICE).unwrap();
    assert_ne!(after.change_key, change_key, "the other writer bumped it");
    assert_eq!(
        after.permissions.len(),
        calendar.permissions.len(),
        "our two-entry set was not written"
    );
    let carol = after
        .permissions
        .iter()
        .find(|entry| entry.user == "carol@contoso.example")
        .unwrap();
    assert_eq!(carol.level, PermissionLevel::Owner);
    assert_eq!(sim.stats().faults_applied, 1);

    // The fault is used up: the same write with the fresh key now succeeds.
    let answer = call(
        &mut client,
        &update_folder(&after.change_key, &calendar.folder_id),
    )
    .await;
    assert!(
        response_codes(&answer.body).contains(&"NoError".to_owned()),
        "{}",
        answer.body
    );
    assert_eq!(sim.permissions(ALICE).unwrap().len(), 2);
}
