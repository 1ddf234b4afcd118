//! The service-account pool against the simulator: a wrong password costs exactly one failed
//! handshake whatever the concurrency, is never sent again until it changes or the cool-down
//! ends, its mailboxes fail over to the next account, and rendezvous hashing moves few mailboxes
//! when an account is added.

mod exchange_common;

use std::sync::Arc;
use std::time::Duration;

use ews_connector::exchange::{
    Account, AccountStatus, ActAs, Error, Exchange, FailureKind, Settings,
};
use ews_connector::secret::Secret;
use ews_connector::sim::{FaultKind, ScriptedFault};
use ews_connector::transport::{AuthScheme, Settings as TransportSettings};

use exchange_common::*;

async fn fifty_calls(exchange: &Arc<Exchange>) -> Vec<Result<(), Error>> {
    let mut calls = Vec::new();
    for n in 0..50 {
        let exchange = Arc::clone(exchange);
        calls.push(tokio::spawn(async move {
            exchange
                .call(
                    ActAs::Owner(&format!("m{}@contoso.example", n % 10)),
                    &get_calendar(),
                )
                .await
                .map(|_| ())
        }));
    }
    let mut results = Vec::new();
    for call in calls {
        results.push(call.await.unwrap());
    }
    results
}

#[tokio::test]
async fn a_wrong_password_costs_one_handshake_whatever_the_concurrency() {
    let sim = start("").await;
    let exchange = Arc::new(exchange(
        &sim,
        &[(USER_A, SMTP_A, "Wrong-Passw0rd")],
        Knobs {
            auth_failure_cooldown: Duration::from_secs(900),
            ..Knobs::default()
        },
    ));
    let results = fifty_calls(&exchange).await;
    assert_eq!(sim.stats().ntlm_refused, 1, "exactly one failed handshake");
    assert_eq!(sim.stats().requests("GetFolder"), 0);
    for result in &results {
        let error = result.as_ref().expect_err("every call fails");
        assert_eq!(error.kind(), FailureKind::AuthFailed, "{error}");
        assert!(!error.to_string().contains("Wrong-Passw0rd"));
    }
    let states = exchange.account_states();
    assert!(
        matches!(&states[0].status, AccountStatus::AuthFailed { .. }),
        "{states:?}"
    );
    assert_eq!(exchange.stats().auth_failures, 1);
    assert_eq!(exchange.stats().auth_short_circuits, 49);

    // The same wrong password again (SIGHUP with an unchanged file): still nothing is sent.
    let changed = exchange.update_passwords(&[(USER_A.to_owned(), Secret::new("Wrong-Passw0rd"))]);
    assert!(changed.is_empty());
    let error = exchange
        .call(ActAs::Owner("m0@contoso.example"), &get_calendar())
        .await
        .expect_err("still refused");
    assert_eq!(error.kind(), FailureKind::AuthFailed);
    assert_eq!(sim.stats().ntlm_refused, 1);
    assert_eq!(exchange.transport_stats().handshakes, 1);

    // The right password: one handshake, then everything works.
    let changed = exchange.update_passwords(&[(USER_A.to_lowercase(), Secret::new(PASSWORD_A))]);
    assert_eq!(changed, vec![USER_A.to_owned()]);
    assert_eq!(exchange.account_states()[0].status, AccountStatus::Healthy);
    let results = fifty_calls(&exchange).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(sim.stats().ntlm_refused, 1);
    assert_eq!(sim.stats().requests("GetFolder"), 50);
}

#[tokio::test]
async fn a_refused_account_is_not_probed_again_until_its_password_changes() {
    let sim = start("").await;
    let exchange = exchange(
        &sim,
        &[(USER_A, SMTP_A, "Wrong-Passw0rd")],
        Knobs::default(),
    );
    let account = exchange.accounts()[0].clone();
    for _ in 0..3 {
        let error = exchange.probe(&account).await.expect_err("refused");
        assert_eq!(error.kind(), FailureKind::AuthFailed);
    }
    assert_eq!(sim.stats().ntlm_refused, 1);
    exchange.update_passwords(&[(USER_A.to_owned(), Secret::new(PASSWORD_A))]);
    exchange
        .probe(&account)
        .await
        .expect("the new password is accepted");
    assert_eq!(sim.stats().ntlm_accepted, 1);
}

#[tokio::test]
async fn a_password_changed_under_pooled_connections_costs_one_failed_handshake() {
    let sim = start("latency_ms = 150").await;
    let exchange = Arc::new(exchange(
        &sim,
        &[(USER_A, SMTP_A, PASSWORD_A)],
        Knobs {
            ceiling: 5,
            ..Knobs::default()
        },
    ));
    let reads = |exchange: &Arc<Exchange>| {
        (0..5)
            .map(|n| {
                let exchange = Arc::clone(exchange);
                tokio::spawn(async move {
                    exchange
                        .call(
                            ActAs::Owner(&format!("m{n}@contoso.example")),
                            &get_calendar(),
                        )
                        .await
                        .map(|_| ())
                })
            })
            .collect::<Vec<_>>()
    };
    for call in reads(&exchange) {
        call.await.unwrap().expect("warm-up read");
    }
    let warm = exchange.transport_stats().connections_opened;
    assert!(warm >= 2, "several pooled connections: {warm}");
    // An administrator resets the password in AD; IIS then asks every connection to log on
    // again.
    sim.set_password(SMTP_A, "Reset-By-Admin-9!").unwrap();
    sim.push_fault(ScriptedFault {
        operation: Some("GetFolder".to_owned()),
        mailbox: None,
        count: 5,
        kind: FaultKind::Http401,
    });
    for call in reads(&exchange) {
        let error = call
            .await
            .unwrap()
            .expect_err("the old password is refused");
        assert_eq!(error.kind(), FailureKind::AuthFailed, "{error}");
    }
    assert_eq!(
        sim.stats().ntlm_refused,
        1,
        "one failed handshake, not one per connection"
    );
    assert!(matches!(
        exchange.account_states()[0].status,
        AccountStatus::AuthFailed { .. }
    ));
}

#[tokio::test]
async fn the_cooldown_lets_the_account_be_tried_again_once() {
    let sim = start("").await;
    let exchange = Arc::new(exchange(
        &sim,
        &[(USER_A, SMTP_A, "Wrong-Passw0rd")],
        Knobs {
            auth_failure_cooldown: Duration::from_millis(300),
            ..Knobs::default()
        },
    ));
    fifty_calls(&exchange).await;
    assert_eq!(sim.stats().ntlm_refused, 1);
    // Within the cool-down nothing is sent.
    fifty_calls(&exchange).await;
    assert_eq!(sim.stats().ntlm_refused, 1);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(exchange.account_states()[0].status, AccountStatus::Healthy);
    // After it, one more try (still one handshake for fifty callers), then marked again.
    let results = fifty_calls(&exchange).await;
    assert!(results.iter().all(Result::is_err));
    assert_eq!(sim.stats().ntlm_refused, 2);
    assert!(matches!(
        exchange.account_states()[0].status,
        AccountStatus::AuthFailed { .. }
    ));
}

#[tokio::test]
async fn a_refused_accounts_mailboxes_fail_over_to_the_next_account() {
    let sim = start("").await;
    let exchange = exchange(
        &sim,
        &[
            (USER_A, SMTP_A, "Wrong-Passw0rd"),
            (USER_B, SMTP_B, PASSWORD_B),
        ],
        Knobs::default(),
    );
    let of_a: Vec<String> = mailboxes()
        .into_iter()
        .filter(|mailbox| exchange.account_for(mailbox).username == USER_A)
        .collect();
    let of_b: Vec<String> = mailboxes()
        .into_iter()
        .filter(|mailbox| exchange.account_for(mailbox).username == USER_B)
        .collect();
    assert!(
        !of_a.is_empty() && !of_b.is_empty(),
        "both accounts have mailboxes"
    );
    assert_eq!(
        exchange.serving_account(&of_a[0]).smtp,
        SMTP_A,
        "before a refusal, the first of the ranking serves"
    );
    for mailbox in &of_a {
        let answer = exchange
            .call(ActAs::Owner(mailbox), &get_calendar())
            .await
            .expect("served by the other account");
        assert_eq!(answer.account, SMTP_B);
    }
    for mailbox in &of_b {
        let answer = exchange
            .call(ActAs::Owner(mailbox), &get_calendar())
            .await
            .unwrap();
        assert_eq!(answer.account, SMTP_B);
    }
    assert_eq!(sim.stats().ntlm_refused, 1);
    assert_eq!(
        sim.stats().requests("GetFolder"),
        (of_a.len() + of_b.len()) as u64
    );
    let states = exchange.account_states();
    assert_eq!(states[0].smtp, SMTP_A);
    match &states[0].status {
        AccountStatus::AuthFailed { detail, .. } => {
            assert!(detail.contains("401"), "{detail}");
        }
        other => panic!("account A should be marked: {other:?}"),
    }
    assert_eq!(states[1].status, AccountStatus::Healthy);
    assert_eq!(exchange.stats().failovers, of_a.len() as u64);
    assert_eq!(
        exchange.accounts_for(&of_a[0])[1].username,
        USER_B,
        "the ranking names the next account"
    );
    for mailbox in of_a.iter().chain(&of_b) {
        assert_eq!(
            exchange.serving_account(mailbox).smtp,
            SMTP_B,
            "the account that served {mailbox} is the one named for it (check reports, batch lanes)"
        );
    }
}

fn offline(accounts: usize) -> Exchange {
    let transport = TransportSettings::new(
        "http://127.0.0.1:9/EWS/Exchange.asmx".parse().unwrap(),
        AuthScheme::Ntlm,
    );
    let accounts = (0..accounts)
        .map(|n| Account {
            username: format!("CONTOSO\\svc-{n}"),
            smtp: format!("svc-{n}@contoso.example"),
            password: Secret::new("unused"),
        })
        .collect();
    Exchange::new(Settings::new(
        transport,
        "Exchange2013_SP1".to_owned(),
        accounts,
    ))
    .unwrap()
}

#[test]
fn adding_a_fourth_account_moves_only_its_share_and_only_to_it() {
    let three = offline(3);
    let four = offline(4);
    let total = 10_000;
    let mut moved = 0;
    for n in 0..total {
        let mailbox = format!("user{n}@uni.example");
        let before = &three.account_for(&mailbox).username;
        let after = &four.account_for(&mailbox).username;
        if before != after {
            moved += 1;
            assert_eq!(after, r"CONTOSO\svc-3", "{mailbox} moved to an old account");
        }
    }
    let share = f64::from(moved) / f64::from(total);
    assert!((0.15..=0.35).contains(&share), "moved {share}");
}
