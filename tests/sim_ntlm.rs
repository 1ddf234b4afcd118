//! The simulator's logon: connection-bound NTLMv2 (and Negotiate carrying raw NTLM), Basic, and
//! the counters that let pool tests see handshakes and connections.

mod common;

use common::sim::*;

#[tokio::test]
async fn right_password_gets_the_calendar_with_its_permission_set() {
    let sim = start_sim(&sample_state()).await;
    let mut client = RawClient::connect(&sim).await;
    let response = client
        .ntlm_login(
            SVC_DOMAIN,
            SVC_USER,
            SVC_PASSWORD,
            &get_folder_impersonating("alice@contoso.example"),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert!(
        response
            .header("content-type")
            .unwrap()
            .starts_with("text/xml")
    );
    let body = &response.body;
    assert!(body.contains("ResponseClass=\"Success\""), "{body}");
    assert!(
        body.contains("ChangeKey=\"AgAAABQAAADdSHmw1oJ8Rbb0wNVq3vFcAAAAAAJr\""),
        "{body}"
    );
    assert!(body.contains("<t:PrimarySmtpAddress>bob@contoso.example</t:PrimarySmtpAddress>"));
    assert!(body.contains("<t:DisplayName>Bob Jones</t:DisplayName>"));
    assert!(body.contains("<t:SID>S-1-5-21-3623811015-3361044348-30300820-1104</t:SID>"));
    assert!(body.contains("<t:DistinguishedUser>Default</t:DistinguishedUser>"));
    assert!(body.contains("<t:CalendarPermissionLevel>Custom</t:CalendarPermissionLevel>"));
    // The deleted user Alice's set still holds by SID alone.
    assert!(body.contains(
        "<t:UserId>\n                      <t:SID>S-1-5-21-3623811015-3361044348-30300820-1888</t:SID>\n                    </t:UserId>"
    ));
    // A named level comes with its full flag list, as Exchange sends it.
    assert!(body.contains("<t:EditItems>All</t:EditItems>"));

    // The connection stays logged on: the next request needs no Authorization header.
    let again = call(
        &mut client,
        &get_folder_impersonating("alice@contoso.example"),
    )
    .await;
    assert_eq!(again.status, 200);

    let stats = sim.stats();
    assert_eq!(stats.ntlm_challenges, 1);
    assert_eq!(stats.ntlm_accepted, 1);
    assert_eq!(stats.ntlm_refused, 0);
    assert_eq!(stats.connections_opened, 1);
    assert_eq!(stats.requests("GetFolder"), 2);
}

#[tokio::test]
async fn no_authorization_offers_negotiate_ntlm_and_basic_when_enabled() {
    let sim = start_sim(&sample_state()).await;
    let mut client = RawClient::connect(&sim).await;
    let response = client
        .post_soap(None, &get_folder_impersonating("alice@contoso.example"))
        .await
        .unwrap();
    assert_eq!(response.status, 401);
    let offered = response.headers_named("www-authenticate");
    assert!(offered.contains(&"NTLM"), "{offered:?}");
    assert!(offered.contains(&"Negotiate"), "{offered:?}");
    assert!(
        offered.contains(&"Basic realm=\"mail.contoso.example\""),
        "{offered:?}"
    );

    let without_basic = sample_state().replace("basic = true", "basic = false");
    let sim = start_sim(&without_basic).await;
    let mut client = RawClient::connect(&sim).await;
    let response = client.post_soap(None, "").await.unwrap();
    assert!(
        !response
            .headers_named("www-authenticate")
            .iter()
            .any(|value| value.starts_with("Basic"))
    );
}

#[tokio::test]
async fn wrong_password_is_refused() {
    let sim = start_sim(&sample_state()).await;
    let mut client = RawClient::connect(&sim).await;
    let response = client
        .ntlm_login(
            SVC_DOMAIN,
            SVC_USER,
            "Sim-Passw0rd?",
            &get_folder_impersonating("alice@contoso.example"),
        )
        .await;
    assert_eq!(response.status, 401);
    assert!(!response.body.contains("Envelope"));
    // The connection did not become authenticated.
    let next = client
        .post_soap(None, &get_folder_impersonating("alice@contoso.example"))
        .await
        .unwrap();
    assert_eq!(next.status, 401);
    let stats = sim.stats();
    assert_eq!(stats.ntlm_refused, 1);
    assert_eq!(stats.ntlm_accepted, 0);
    assert_eq!(stats.requests("GetFolder"), 0);
}

#[tokio::test]
async fn each_account_has_its_own_password() {
    let sim = start_sim(&sample_state()).await;
    let mut client = RawClient::connect(&sim).await;
    let body = get_folder_impersonating("alice@contoso.example");
    let response = client
        .ntlm_login("CONTOSO", "svc-reports", SVC_PASSWORD, &body)
        .await;
    assert_eq!(response.status, 401);
    let mut client = RawClient::connect(&sim).await;
    let response = client
        .ntlm_login("CONTOSO", "svc-reports", "Other-Passw0rd#2", &body)
        .await;
    // Logged on, but this account may not impersonate anybody.
    assert_eq!(response.status, 500);
    assert!(response.body.contains("ErrorImpersonateUserDenied"));
}

#[tokio::test]
async fn ntlmv1_response_is_refused() {
    let sim = start_sim(&sample_state()).await;
    let mut client = RawClient::connect(&sim).await;
    let _challenge = client.ntlm_negotiate("NTLM").await;
    let authenticate = authenticate_message(SVC_DOMAIN, SVC_USER, &[0x11; 24]);
    let response = client
        .post_soap(
            Some(format!("NTLM {}", b64(&authenticate))),
            &get_folder_impersonating("alice@contoso.example"),
        )
        .await
        .unwrap();
    assert_eq!(response.status, 401);
    assert_eq!(sim.stats().ntlm_refused, 1);
}

#[tokio::test]
async fn authenticate_on_another_connection_is_refused() {
    let sim = start_sim(&sample_state()).await;
    let mut first = RawClient::connect(&sim).await;
    let challenge = first.ntlm_negotiate("NTLM").await;
    let authenticate = ntlmv2_authenticate(&challenge, SVC_DOMAIN, SVC_USER, SVC_PASSWORD);
    let mut second = RawClient::connect(&sim).await;
    let response = second
        .post_soap(
            Some(format!("NTLM {}", b64(&authenticate))),
            &get_folder_impersonating("alice@contoso.example"),
        )
        .await
        .unwrap();
    assert_eq!(response.status, 401);
    // The same message is fine on the connection that got the challenge.
    let response = first
        .post_soap(
            Some(format!("NTLM {}", b64(&authenticate))),
            &get_folder_impersonating("alice@contoso.example"),
        )
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    let stats = sim.stats();
    assert_eq!(stats.connections_opened, 2);
    assert_eq!(stats.ntlm_refused, 1);
    assert_eq!(stats.ntlm_accepted, 1);
    // A challenge is used once: replaying the AUTHENTICATE is refused.
    let replay = first
        .post_soap(
            Some(format!("NTLM {}", b64(&authenticate))),
            &get_folder_impersonating("alice@contoso.example"),
        )
        .await
        .unwrap();
    assert_eq!(replay.status, 401);
}

#[tokio::test]
async fn negotiate_scheme_with_raw_ntlm_and_upn_logon_work() {
    let sim = start_sim(&sample_state()).await;
    let mut client = RawClient::connect(&sim).await;
    let challenge = client.ntlm_negotiate("Negotiate").await;
    let authenticate =
        ntlmv2_authenticate(&challenge, "", "svc-mytt@contoso.example", SVC_PASSWORD);
    let response = client
        .post_soap(
            Some(format!("Negotiate {}", b64(&authenticate))),
            &get_folder_impersonating("alice@contoso.example"),
        )
        .await
        .unwrap();
    assert_eq!(response.status, 200, "{}", response.body);
}

#[tokio::test]
async fn challenge_carries_names_and_timestamp() {
    let sim = start_sim(&sample_state()).await;
    let mut client = RawClient::connect(&sim).await;
    let challenge = client.ntlm_negotiate("NTLM").await;
    let (_server_challenge, target_info) = read_challenge(&challenge);
    let mut pairs = Vec::new();
    let mut at = 0;
    while at + 4 <= target_info.len() {
        let id = u16::from_le_bytes([target_info[at], target_info[at + 1]]);
        let len = u16::from_le_bytes([target_info[at + 2], target_info[at + 3]]) as usize;
        pairs.push((id, target_info[at + 4..at + 4 + len].to_vec()));
        at += 4 + len;
    }
    let text = |id: u16| {
        let value = &pairs.iter().find(|(found, _)| *found == id).unwrap().1;
        String::from_utf16(
            &value
                .chunks(2)
                .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
                .collect::<Vec<_>>(),
        )
        .unwrap()
    };
    assert_eq!(text(2), "CONTOSO");
    assert_eq!(text(1), "EXCH01");
    assert_eq!(text(3), "exch01.contoso.example");
    let timestamp = &pairs.iter().find(|(id, _)| *id == 7).unwrap().1;
    let filetime = u64::from_le_bytes(timestamp.as_slice().try_into().unwrap());
    // After 2020-01-01 in FILETIME units.
    assert!(filetime > 132_223_104_000_000_000);
}

#[tokio::test]
async fn ntlmclient_crate_interoperates() {
    use ntlmclient::{Credentials, Flags, Message};
    let sim = start_sim(&sample_state()).await;
    let mut client = RawClient::connect(&sim).await;
    let challenge = client.ntlm_negotiate("NTLM").await;
    let Ok(Message::Challenge(parsed)) = Message::try_from(challenge.as_slice()) else {
        panic!("ntlmclient cannot read the sim's CHALLENGE");
    };
    let target_info: Vec<u8> = parsed
        .target_information
        .iter()
        .flat_map(|entry| entry.to_bytes())
        .collect();
    let credentials = Credentials {
        username: SVC_USER.to_string(),
        password: SVC_PASSWORD.to_string(),
        domain: SVC_DOMAIN.to_string(),
    };
    let response = ntlmclient::respond_challenge_ntlm_v2(
        parsed.challenge,
        &target_info,
        ntlmclient::get_ntlm_time(),
        &credentials,
    );
    let flags = Flags::NEGOTIATE_UNICODE | Flags::NEGOTIATE_NTLM;
    let authenticate = response
        .to_message(&credentials, "TESTWS", flags)
        .to_bytes()
        .expect("ntlmclient encodes AUTHENTICATE");
    let answer = client
        .post_soap(
            Some(format!("NTLM {}", b64(&authenticate))),
            &get_folder_impersonating("alice@contoso.example"),
        )
        .await
        .unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test]
async fn basic_is_per_request_and_checks_the_password() {
    use base64::Engine;
    let sim = start_sim(&sample_state()).await;
    let basic = |user: &str, password: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        )
    };
    let body = get_folder_impersonating("alice@contoso.example");
    let mut client = RawClient::connect(&sim).await;
    let ok = client
        .post_soap(Some(basic("CONTOSO\\svc-mytt", SVC_PASSWORD)), &body)
        .await
        .unwrap();
    assert_eq!(ok.status, 200);
    // Basic does not log the connection on.
    let next = client.post_soap(None, &body).await.unwrap();
    assert_eq!(next.status, 401);
    let wrong = client
        .post_soap(Some(basic("svc-mytt@contoso.example", "nope")), &body)
        .await
        .unwrap();
    assert_eq!(wrong.status, 401);
    let stats = sim.stats();
    assert_eq!((stats.basic_accepted, stats.basic_refused), (1, 1));

    let sim = start_sim(&sample_state().replace("basic = true", "basic = false")).await;
    let mut client = RawClient::connect(&sim).await;
    let refused = client
        .post_soap(Some(basic("CONTOSO\\svc-mytt", SVC_PASSWORD)), &body)
        .await
        .unwrap();
    assert_eq!(refused.status, 401);
}

#[tokio::test]
async fn anchor_mailbox_mismatches_are_counted_and_request_ids_echoed() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    // The login request carried no X-AnchorMailbox.
    assert_eq!(sim.stats().anchor_mailbox_mismatches, 1);
    let headers = [
        ("Content-Type", "text/xml; charset=utf-8".to_string()),
        ("X-AnchorMailbox", "Alice@contoso.example".to_string()),
        (
            "client-request-id",
            "0f8fad5b-d9cb-469f-a165-70867728950e".to_string(),
        ),
        ("return-client-request-id", "true".to_string()),
    ];
    let response = client
        .request(
            "POST",
            "/EWS/Exchange.asmx",
            &headers,
            &get_folder_impersonating("alice@contoso.example"),
        )
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("client-request-id"),
        Some("0f8fad5b-d9cb-469f-a165-70867728950e")
    );
    assert_eq!(
        sim.stats().anchor_mailbox_mismatches,
        1,
        "a matching anchor is not counted"
    );
    let wrong = [("X-AnchorMailbox", "svc-mytt@contoso.example".to_string())];
    client
        .request(
            "POST",
            "/EWS/Exchange.asmx",
            &wrong,
            &get_folder_impersonating("alice@contoso.example"),
        )
        .await
        .unwrap();
    assert_eq!(sim.stats().anchor_mailbox_mismatches, 2);
}
