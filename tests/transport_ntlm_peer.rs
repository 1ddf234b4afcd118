//! The transport against an NTLM acceptor that is not ours (pyspnego behind
//! `../shared/ntlm-peer/ntlm_server.py`): NTLMv2 over http and https, Extended Protection
//! channel binding, Basic, and connection reuse.
//!
//! Skipped with a message when python3/pyspnego or the peer script is missing; failing under
//! `CI=true`.

mod common;

use std::time::Duration;

use bytes::Bytes;
use ews_connector::secret::Secret;
use ews_connector::transport::{AuthScheme, Credentials, Error, Request, Settings, Transport};

use common::ntlm_peer::{NtlmPeer, PeerOptions, SOAP_RESPONSE};

const ENVELOPE: &str = r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body/></soap:Envelope>"#;

fn credentials(password: &str) -> Credentials {
    Credentials {
        username: "CONTOSO\\svc-mytt".to_owned(),
        password: Secret::new(password),
    }
}

fn request() -> Request {
    Request {
        body: Bytes::from_static(ENVELOPE.as_bytes()),
        anchor_mailbox: Some("room.101@contoso.example".to_owned()),
        client_request_id: Some("6f1e2d3c-0000-4000-8000-000000000001".to_owned()),
    }
}

fn settings(peer: &NtlmPeer, auth: AuthScheme) -> Settings {
    let mut settings = Settings::new(peer.url(), auth);
    settings.connect_timeout = Duration::from_secs(10);
    settings.request_timeout = Duration::from_secs(30);
    if peer.tls {
        settings.ca_file = Some(peer.cert_path.clone());
    }
    settings
}

fn assert_rejected(result: Result<ews_connector::transport::Response, Error>) {
    match result {
        Err(Error::AuthRejected { username, .. }) => assert_eq!(username, "CONTOSO\\svc-mytt"),
        other => panic!("expected AuthRejected, got {other:?}"),
    }
}

#[tokio::test]
async fn ntlm_over_http_right_password_gets_the_body() {
    let Some(peer) = NtlmPeer::start(PeerOptions::default()) else {
        return;
    };
    let transport = Transport::new(settings(&peer, AuthScheme::Ntlm)).unwrap();
    let response = transport
        .post(&credentials("S3rvice!Pass"), request())
        .await
        .unwrap();
    assert_eq!(response.status, 200, "peer log: {}", peer.stderr());
    assert_eq!(response.body, SOAP_RESPONSE.as_bytes());
    assert_eq!(
        response.content_type.as_deref(),
        Some("text/xml; charset=utf-8")
    );
    let ok = peer.type3_events("auth_ok");
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0]["msg"]["ntlm_version"], "NTLMv2");
    assert_eq!(
        ok[0]["msg"]["enc_session_key_len"], 0,
        "the session key is never sent"
    );
    assert_eq!(ok[0]["user"], "CONTOSO\\svc-mytt");
    assert_eq!(transport.stats().handshakes, 1);
}

#[tokio::test]
async fn ntlm_upn_logins_work() {
    let options = PeerOptions {
        users: vec![":svc-mytt@contoso.example:S3rvice!Pass".to_owned()],
        ..Default::default()
    };
    let Some(peer) = NtlmPeer::start(options) else {
        return;
    };
    let transport = Transport::new(settings(&peer, AuthScheme::Ntlm)).unwrap();
    let upn = Credentials {
        username: "svc-mytt@contoso.example".to_owned(),
        password: Secret::new("S3rvice!Pass"),
    };
    let response = transport.post(&upn, request()).await.unwrap();
    assert_eq!(response.status, 200, "peer log: {}", peer.stderr());
}

#[tokio::test]
async fn ntlm_wrong_password_is_rejected_after_exactly_one_handshake_each_call() {
    let Some(peer) = NtlmPeer::start(PeerOptions::default()) else {
        return;
    };
    let transport = Transport::new(settings(&peer, AuthScheme::Ntlm)).unwrap();
    assert_rejected(transport.post(&credentials("wrong"), request()).await);
    assert_eq!(peer.type3_events("auth_fail").len(), 1);
    assert_eq!(peer.events_of("challenge").len(), 1);
    assert_eq!(transport.stats().handshakes, 1);
    assert_eq!(transport.stats().auth_failures, 1);

    // A second call is again one handshake: no retry storm that would lock the AD account.
    assert_rejected(transport.post(&credentials("wrong"), request()).await);
    assert_eq!(peer.type3_events("auth_fail").len(), 2);
    assert_eq!(peer.events_of("challenge").len(), 2);
    assert_eq!(transport.stats().handshakes, 2);
    assert_eq!(transport.stats().auth_failures, 2);
    assert!(peer.events_of("auth_ok").is_empty());
}

#[tokio::test]
async fn https_with_required_channel_binding_and_a_pinned_ca() {
    let options = PeerOptions {
        tls: true,
        cbt: Some("require"),
        ..Default::default()
    };
    let Some(peer) = NtlmPeer::start(options) else {
        return;
    };
    let transport = Transport::new(settings(&peer, AuthScheme::Ntlm)).unwrap();

    let response = transport
        .post(&credentials("S3rvice!Pass"), request())
        .await
        .unwrap();
    assert_eq!(response.status, 200, "peer log: {}", peer.stderr());
    assert_eq!(response.body, SOAP_RESPONSE.as_bytes());
    let ok = peer.type3_events("auth_ok");
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0]["msg"]["ntlm_version"], "NTLMv2");
    assert_eq!(ok[0]["msg"]["cbt"], "present");
    assert_eq!(ok[0]["cbt_checked"], true);
    assert_eq!(ok[0]["msg"]["target_name"], "HTTP/127.0.0.1");

    // The wrong password over TLS: one handshake, rejected.
    let other_account = Transport::new(settings(&peer, AuthScheme::Ntlm)).unwrap();
    assert_rejected(other_account.post(&credentials("wrong"), request()).await);
    assert_eq!(other_account.stats().handshakes, 1);
    assert_eq!(peer.type3_events("auth_fail").len(), 1);
}

#[tokio::test]
async fn without_channel_binding_extended_protection_refuses_us() {
    let options = PeerOptions {
        tls: true,
        cbt: Some("require"),
        ..Default::default()
    };
    let Some(peer) = NtlmPeer::start(options) else {
        return;
    };
    let mut settings = settings(&peer, AuthScheme::Ntlm);
    settings.channel_binding = false;
    let transport = Transport::new(settings).unwrap();
    let result = transport
        .post(&credentials("S3rvice!Pass"), request())
        .await;
    match &result {
        Err(Error::AuthRejected { detail, .. }) => {
            assert!(detail.contains("channel binding"), "{detail}")
        }
        other => panic!("expected AuthRejected, got {other:?}"),
    }
    let fails = peer.type3_events("auth_fail");
    assert_eq!(fails.len(), 1);
    assert_eq!(fails[0]["msg"]["cbt"], "absent");
    assert_eq!(transport.stats().handshakes, 1);
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_error() {
    let options = PeerOptions {
        tls: true,
        ..Default::default()
    };
    let Some(peer) = NtlmPeer::start(options) else {
        return;
    };
    let mut settings = settings(&peer, AuthScheme::Ntlm);
    settings.ca_file = None;
    let transport = Transport::new(settings).unwrap();
    match transport
        .post(&credentials("S3rvice!Pass"), request())
        .await
    {
        Err(Error::Certificate { reason, .. }) => {
            assert!(reason.contains("trusted CA"), "{reason}");
            assert!(reason.contains("tls.ca_file"), "{reason}");
        }
        other => panic!("expected a certificate error, got {other:?}"),
    }
    assert!(peer.events_of("auth_ok").is_empty());
    assert_eq!(transport.stats().handshakes, 0);
}

#[tokio::test]
async fn danger_mode_accepts_the_certificate_and_still_binds_the_channel() {
    let options = PeerOptions {
        tls: true,
        cbt: Some("require"),
        ..Default::default()
    };
    let Some(peer) = NtlmPeer::start(options) else {
        return;
    };
    let mut settings = settings(&peer, AuthScheme::Ntlm);
    settings.ca_file = None;
    settings.danger_accept_invalid_certs = true;
    let transport = Transport::new(settings).unwrap();
    let response = transport
        .post(&credentials("S3rvice!Pass"), request())
        .await
        .unwrap();
    assert_eq!(response.status, 200, "peer log: {}", peer.stderr());
    assert_eq!(peer.type3_events("auth_ok")[0]["cbt_checked"], true);
}

#[tokio::test]
async fn basic_over_https() {
    let options = PeerOptions {
        tls: true,
        allow_basic: true,
        ..Default::default()
    };
    let Some(peer) = NtlmPeer::start(options) else {
        return;
    };
    let transport = Transport::new(settings(&peer, AuthScheme::Basic)).unwrap();
    let response = transport
        .post(&credentials("S3rvice!Pass"), request())
        .await
        .unwrap();
    assert_eq!(response.status, 200, "peer log: {}", peer.stderr());
    assert_eq!(response.body, SOAP_RESPONSE.as_bytes());
    let ok = peer.events_of("auth_ok");
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0]["scheme"], "Basic");

    assert_rejected(transport.post(&credentials("wrong"), request()).await);
    assert_eq!(peer.events_of("auth_fail").len(), 1);
    assert_eq!(transport.stats().auth_failures, 1);
    assert_eq!(
        transport.stats().handshakes,
        0,
        "basic has no ntlm handshake"
    );
}

#[tokio::test]
async fn basic_over_plain_http_needs_the_lab_flag() {
    let options = PeerOptions {
        allow_basic: true,
        ..Default::default()
    };
    let Some(peer) = NtlmPeer::start(options) else {
        return;
    };
    let mut settings = settings(&peer, AuthScheme::Basic);
    assert!(matches!(
        Transport::new(settings.clone()),
        Err(Error::InsecureBasic)
    ));
    settings.danger_allow_basic_over_http = true;
    let transport = Transport::new(settings).unwrap();
    let response = transport
        .post(&credentials("S3rvice!Pass"), request())
        .await
        .unwrap();
    assert_eq!(response.status, 200, "peer log: {}", peer.stderr());
}

#[tokio::test]
async fn a_hundred_sequential_requests_need_one_handshake() {
    let Some(peer) = NtlmPeer::start(PeerOptions::default()) else {
        return;
    };
    let transport = Transport::new(settings(&peer, AuthScheme::Ntlm)).unwrap();
    for _ in 0..100 {
        let response = transport
            .post(&credentials("S3rvice!Pass"), request())
            .await
            .unwrap();
        assert_eq!(response.status, 200);
    }
    let stats = transport.stats();
    assert_eq!(stats.handshakes, 1);
    assert_eq!(stats.connections_opened, 1);
    assert_eq!(peer.type3_events("auth_ok").len(), 1);
    assert_eq!(peer.events_of("connect").len(), 1);
    assert_eq!(
        peer.events_of("request_on_authenticated_connection").len(),
        99
    );
}

#[tokio::test]
async fn twenty_concurrent_requests_all_succeed_within_the_ceiling() {
    let Some(peer) = NtlmPeer::start(PeerOptions::default()) else {
        return;
    };
    let mut settings = settings(&peer, AuthScheme::Ntlm);
    settings.max_connections_per_account = 8;
    let transport = Transport::new(settings).unwrap();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let transport = transport.clone();
        tasks.push(tokio::spawn(async move {
            transport
                .post(&credentials("S3rvice!Pass"), request())
                .await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().status, 200);
    }
    let stats = transport.stats();
    assert!(stats.handshakes <= stats.connections_opened, "{stats:?}");
    assert!(stats.connections_opened <= 8, "{stats:?}");
    assert_eq!(
        stats.handshakes as usize,
        peer.type3_events("auth_ok").len()
    );
    assert_eq!(
        stats.connections_opened as usize,
        peer.events_of("connect").len()
    );
    // The next request reuses a warm connection.
    transport
        .post(&credentials("S3rvice!Pass"), request())
        .await
        .unwrap();
    assert_eq!(transport.stats().handshakes, stats.handshakes);
}

#[tokio::test]
async fn connections_are_never_shared_between_accounts() {
    let options = PeerOptions {
        users: vec![
            "CONTOSO:svc-mytt:S3rvice!Pass".to_owned(),
            "CONTOSO:svc-other:0ther!Pass".to_owned(),
        ],
        ..Default::default()
    };
    let Some(peer) = NtlmPeer::start(options) else {
        return;
    };
    let transport = Transport::new(settings(&peer, AuthScheme::Ntlm)).unwrap();
    let other = Credentials {
        username: "CONTOSO\\svc-other".to_owned(),
        password: Secret::new("0ther!Pass"),
    };
    for _ in 0..3 {
        transport
            .post(&credentials("S3rvice!Pass"), request())
            .await
            .unwrap();
        transport.post(&other, request()).await.unwrap();
    }
    assert_eq!(transport.stats().handshakes, 2);
    let users: Vec<String> = peer
        .type3_events("auth_ok")
        .iter()
        .map(|event| event["user"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(users, vec!["CONTOSO\\svc-mytt", "CONTOSO\\svc-other"]);
    // A wrong password for a third account does not disturb the warm connections of the others.
    let stranger = Credentials {
        username: "CONTOSO\\svc-mytt2".to_owned(),
        password: Secret::new("S3rvice!Pass"),
    };
    assert!(matches!(
        transport.post(&stranger, request()).await,
        Err(Error::AuthRejected { .. })
    ));
    transport
        .post(&credentials("S3rvice!Pass"), request())
        .await
        .unwrap();
    assert_eq!(transport.stats().handshakes, 3);
}
