//! Readiness computed as Exchange computes it, through the real API (`api::serve` on
//! 127.0.0.1:0, reqwest) and the simulator: the level that applies to the principal (its own
//! entry, else `Default`), what it allows, `delegation.via`, and `effectiveRights` exactly as
//! Exchange sent them (on a folder, `modify`/`delete` are the folder owner's, false for an
//! Editor). One test per case; each asserts `status`, `ready`, `delegation.level`,
//! `delegation.via` and the number of EWS requests the check made.
//!
//! The principal is the sample's push group (`mytimetable-push@contoso.example`) with the service
//! account as member; the configured level is Editor; the access mode is delegate.

mod common;

use ews_connector::sim::SimHandle;

use common::api::{PRINCIPAL, ServedApi};
use common::readiness::{DELEGATE_CHECK_REQUESTS, assert_case, check, serve_delegate};
use common::sim::{sample_state, start_sim};

/// The sample state plus calendars for the cases the sample lacks.
fn cases_state() -> String {
    format!(
        "{}\n{}",
        sample_state(),
        r#"
# Editor for everyone through Default; no entry of the principal's own.
[[mailboxes]]
smtp = "default-editor@contoso.example"
display_name = "Dee Default"
permissions = [
  { user = "Default", level = "Editor" },
  { user = "Anonymous", level = "None" },
]

# The principal holds Author: it may change and delete only what it created.
[[mailboxes]]
smtp = "author@contoso.example"
display_name = "Otto Author"
permissions = [
  { user = "Default", level = "FreeBusyTimeOnly" },
  { user = "Anonymous", level = "None" },
  { user = "mytimetable-push@contoso.example", level = "Author" },
]

# The principal group holds Editor, but the service account (a member) has an entry of its own,
# Reviewer, which Exchange applies to it instead: it cannot push.
[[mailboxes]]
smtp = "own-reviewer@contoso.example"
display_name = "Sam Self"
permissions = [
  { user = "Default", level = "FreeBusyTimeOnly" },
  { user = "Anonymous", level = "None" },
  { user = "mytimetable-push@contoso.example", level = "Editor" },
  { user = "svc-mytt@contoso.example", level = "Reviewer" },
]

# The principal holds Custom flags: what a push needs, plus the folder-contact flag (which makes
# them match no named level; without it Exchange would report them as Author).
[[mailboxes]]
smtp = "custom@contoso.example"
display_name = "Cus Tom"
permissions = [
  { user = "Default", level = "FreeBusyTimeOnly" },
  { user = "Anonymous", level = "None" },
  { user = "mytimetable-push@contoso.example", level = "Custom", flags = { can_create_items = true, is_folder_visible = true, is_folder_contact = true, edit_items = "Owned", delete_items = "Owned", read_items = "FullDetails" } },
]
"#
    )
}

async fn serve(sim: &SimHandle, impersonation: bool) -> ServedApi {
    serve_delegate(sim, impersonation).await
}

#[tokio::test]
async fn own_editor_entry_is_ok_and_ready_while_folder_modify_and_delete_are_false() {
    let sim = start_sim(&cases_state()).await;
    let api = serve(&sim, true).await;
    let (body, requests) = check(&sim, &api, "granted@contoso.example").await;
    assert_case(
        &body,
        "ok",
        true,
        Some("Editor"),
        None,
        requests,
        DELEGATE_CHECK_REQUESTS,
    );
    assert_eq!(body["delegation"]["sufficient"], true);
    // As Exchange sent them: an Editor may create and read items, not change or delete the
    // calendar folder itself.
    assert_eq!(body["effectiveRights"]["createContents"], true);
    assert_eq!(body["effectiveRights"]["read"], true);
    assert_eq!(body["effectiveRights"]["modify"], false);
    assert_eq!(body["effectiveRights"]["delete"], false);
    assert!(body["detail"].is_null(), "{body}");
    assert!(body["ewsResponseCode"].is_null(), "{body}");
}

#[tokio::test]
async fn editor_through_default_is_ok_via_default() {
    let sim = start_sim(&cases_state()).await;
    let api = serve(&sim, true).await;
    let (body, requests) = check(&sim, &api, "default-editor@contoso.example").await;
    assert_case(
        &body,
        "ok",
        true,
        Some("Editor"),
        Some("Default"),
        requests,
        DELEGATE_CHECK_REQUESTS,
    );
    assert_eq!(body["effectiveRights"]["createContents"], true);
    assert_eq!(body["effectiveRights"]["modify"], false);
}

#[tokio::test]
async fn own_author_entry_with_editor_required_is_insufficient_but_ready() {
    let sim = start_sim(&cases_state()).await;
    let api = serve(&sim, true).await;
    let (body, requests) = check(&sim, &api, "author@contoso.example").await;
    assert_case(
        &body,
        "insufficient",
        true,
        Some("Author"),
        None,
        requests,
        DELEGATE_CHECK_REQUESTS,
    );
    assert_eq!(body["delegation"]["sufficient"], false);
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("holds Author"), "{detail}");
    assert!(detail.contains("edit own, delete own"), "{detail}");
    assert!(detail.contains("(ready)"), "{detail}");
    assert!(
        detail.contains(&format!("grant {PRINCIPAL} Editor")),
        "{detail}"
    );
}

#[tokio::test]
async fn reviewer_is_insufficient_and_not_ready() {
    let sim = start_sim(&cases_state()).await;
    let api = serve(&sim, true).await;
    let (body, requests) = check(&sim, &api, "reviewer@contoso.example").await;
    assert_case(
        &body,
        "insufficient",
        false,
        Some("Reviewer"),
        None,
        requests,
        DELEGATE_CHECK_REQUESTS,
    );
    assert_eq!(body["effectiveRights"]["createContents"], false);
    assert_eq!(body["effectiveRights"]["read"], true);
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("holds Reviewer"), "{detail}");
    assert!(detail.contains("allows read"), "{detail}");
    assert!(
        detail.contains("needs create, read, edit own and delete own"),
        "{detail}"
    );
}

#[tokio::test]
async fn no_entry_of_the_principal_is_not_delegated() {
    let sim = start_sim(&cases_state()).await;
    let api = serve(&sim, true).await;
    let (body, requests) = check(&sim, &api, "plain@contoso.example").await;
    // What applies is the Default entry, and it grants free/busy only.
    assert_case(
        &body,
        "not_delegated",
        false,
        Some("FreeBusyTimeOnly"),
        Some("Default"),
        requests,
        DELEGATE_CHECK_REQUESTS,
    );
    // The set decides: nothing was refused (no response code), and free/busy does not make the
    // calendar folder visible, so there are no folder rights to show.
    assert!(body["ewsResponseCode"].is_null(), "{body}");
    assert!(body["effectiveRights"].is_null(), "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("beyond free/busy"), "{detail}");
    assert!(detail.contains("grant it Editor"), "{detail}");
}

#[tokio::test]
async fn custom_create_read_edit_own_delete_own_is_ready() {
    let sim = start_sim(&cases_state()).await;
    let api = serve(&sim, true).await;
    let (body, requests) = check(&sim, &api, "custom@contoso.example").await;
    // Ready: a push needs exactly these rights. Below Editor (edit and delete all): insufficient.
    assert_case(
        &body,
        "insufficient",
        true,
        Some("Custom"),
        None,
        requests,
        DELEGATE_CHECK_REQUESTS,
    );
    assert_eq!(body["effectiveRights"]["createContents"], true);
    assert_eq!(body["effectiveRights"]["read"], true);
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("create, read, edit own, delete own"),
        "{detail}"
    );
}

#[tokio::test]
async fn without_impersonation_readiness_comes_from_create_contents_and_read() {
    let sim = start_sim(&cases_state()).await;
    let api = serve(&sim, false).await;
    // One GetFolder as the service account; the permission set cannot be read.
    let (body, requests) = check(&sim, &api, "granted@contoso.example").await;
    assert_case(&body, "ok", true, None, None, requests, 1);
    assert_eq!(body["impersonation"], "not_configured");
    assert_eq!(body["effectiveRights"]["createContents"], true);
    assert_eq!(body["effectiveRights"]["read"], true);
    assert_eq!(body["effectiveRights"]["modify"], false);
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("edit and delete rights on the items it creates could not be read"),
        "{detail}"
    );

    // Reviewer: the calendar opens, but createContents is false.
    let (body, requests) = check(&sim, &api, "reviewer@contoso.example").await;
    assert_case(&body, "insufficient", false, None, None, requests, 1);
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("createContents=false"), "{detail}");
    assert!(
        detail.contains("edit and delete rights on its own items could not be read"),
        "{detail}"
    );
    assert_eq!(
        sim.stats().requests("GetFolder"),
        2,
        "no GetFolder as the owner"
    );
}

#[tokio::test]
async fn the_service_accounts_own_entry_overrides_the_principal_groups_and_exchange_is_asked() {
    let sim = start_sim(&cases_state()).await;
    let api = serve(&sim, true).await;
    let (body, requests) = check(&sim, &api, "own-reviewer@contoso.example").await;
    // The principal group's Editor entry is sufficient, but the set does not decide for the
    // service account: its own Reviewer entry applies to it, so it is asked as itself (a second
    // GetFolder) and Exchange's answer (no createContents) makes the calendar not ready.
    assert_case(
        &body,
        "ok",
        false,
        Some("Editor"),
        None,
        requests,
        DELEGATE_CHECK_REQUESTS + 1,
    );
    assert_eq!(body["effectiveRights"]["createContents"], false, "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("svc-mytt@contoso.example"), "{detail}");
}
