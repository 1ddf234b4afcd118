//! The retry policy of [`crate::exchange::Exchange::call`] as pure functions: what one attempt's
//! outcome means (return it, retry it, pause the account, fail over to another account) and how
//! long to wait. No I/O and no clock here, so the table is tested with plain data.
//!
//! Invariants:
//! - an answer that may have changed something is never resent: a reset or timeout of a
//!   non-idempotent operation is returned unless the request certainly never left;
//! - refused credentials are never retried on the same account (they fail over instead);
//! - a certificate or name-resolution failure is permanent (`transport::Error::is_permanent`):
//!   never retried, so a call fails after one attempt with one TLS handshake at most;
//! - `Fatal`, `Invalid`, `MailboxNotFound`, `ImpersonationDenied`, `AccessDenied`, `NotFound`,
//!   `Conflict` and `MailboxUnavailable` go back to the caller at once (the caller decides).
//!
//! - `ErrorExceededConnectionCount` (too many requests of the account in flight, no hint) backs
//!   off the refused request alone and lowers the account's limit ([`crowding_outcome`]); other
//!   throttling pauses the whole account.
//!
//! Entry types: [`Verdict`], [`verdict`], [`delay`], [`crowding_outcome`].

use std::time::Duration;

use rand::Rng;

use crate::ews::{ErrorKind, Operation, ResponseCode};
use crate::exchange::crowding::Outcome;
use crate::exchange::{Answer, Error};
use crate::transport;

/// The first back-off when Exchange gave no hint; it doubles per retry.
pub(crate) const FIRST_BACK_OFF: Duration = Duration::from_millis(200);
/// The longest back-off without a hint.
pub(crate) const MAX_BACK_OFF: Duration = Duration::from_secs(30);

/// What to do with the outcome of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Hand the outcome to the caller.
    Return,
    /// Wait, then send again. `hint` is Exchange's own wait (`BackOffMilliseconds`,
    /// `Retry-After`); `throttled` pauses the whole account, not just this call.
    Retry {
        hint: Option<Duration>,
        throttled: bool,
    },
    /// The account's credentials were refused: mark it and try the next account.
    FailOver,
}

/// The verdict on one attempt of `O`.
pub(crate) fn verdict<O: Operation>(result: &Result<Answer<O::Response>, Error>) -> Verdict {
    match result {
        Ok(answer) => {
            // Per-message throttling (`ErrorServerBusy`, or `ErrorInternalServerError` with an
            // inner `ErrorServerBusy` inside a batch, PROTOCOL.md §7.3). Only reads are resent:
            // in a write batch other messages may have been applied.
            if !O::IDEMPOTENT {
                return Verdict::Return;
            }
            O::response_errors(&answer.response)
                .into_iter()
                .find_map(|error| match error.kind() {
                    ErrorKind::Throttled => Some(Verdict::Retry {
                        hint: error.message_xml.back_off,
                        throttled: pauses_the_account(error.effective_code()),
                    }),
                    ErrorKind::Transient => Some(Verdict::Retry {
                        hint: error.message_xml.back_off,
                        throttled: false,
                    }),
                    _ => None,
                })
                .unwrap_or(Verdict::Return)
        }
        Err(Error::Fault(fault)) => match fault_kind(fault) {
            ErrorKind::Throttled => Verdict::Retry {
                hint: fault.message_xml.back_off,
                throttled: pauses_the_account(effective_fault_code(fault)),
            },
            ErrorKind::Transient => Verdict::Retry {
                hint: fault.message_xml.back_off,
                throttled: false,
            },
            _ => Verdict::Return,
        },
        Err(Error::HttpStatus {
            status: 503,
            retry_after,
        }) => Verdict::Retry {
            hint: *retry_after,
            throttled: true,
        },
        Err(Error::Transport(transport::Error::AuthRejected { .. })) => Verdict::FailOver,
        // A refused certificate or a name that does not resolve fails the same way on every
        // attempt (and for every account): the operator has to act, waiting does not help.
        Err(Error::Transport(error)) if error.is_permanent() => Verdict::Return,
        Err(Error::Transport(
            error @ (transport::Error::Connect { .. }
            | transport::Error::Timeout { .. }
            | transport::Error::Tls { .. }),
        )) => {
            if O::IDEMPOTENT || error.request_not_sent() {
                Verdict::Retry {
                    hint: None,
                    throttled: false,
                }
            } else {
                Verdict::Return
            }
        }
        Err(_) => Verdict::Return,
    }
}

/// The kind of a fault's effective code: `ErrorInternalServerError` carrying an
/// `InnerErrorResponseCode` means the inner code.
pub(crate) fn fault_kind(fault: &crate::ews::Fault) -> ErrorKind {
    effective_fault_code(fault).kind()
}

fn effective_fault_code(fault: &crate::ews::Fault) -> &ResponseCode {
    match (&fault.response_code, &fault.message_xml.inner_error_code) {
        (ResponseCode::ErrorInternalServerError, Some(inner)) => inner,
        (code, _) => code,
    }
}

/// Whether a throttling code pauses the whole account. `ErrorExceededConnectionCount` does not:
/// the account has too many requests in flight, so the answer is fewer of them
/// ([`crate::exchange::crowding`]) and a back-off for the refused one alone; a pause would
/// bring every waiting caller back at the same moment, above the limit again.
fn pauses_the_account(code: &ResponseCode) -> bool {
    *code != ResponseCode::ErrorExceededConnectionCount
}

/// What an attempt's outcome says about the account's concurrency limit.
pub(crate) fn crowding_outcome<O: Operation>(
    result: &Result<Answer<O::Response>, Error>,
) -> Outcome {
    let refused = |message_xml: &crate::ews::MessageXml| Outcome::Refused {
        named_limit: message_xml
            .value("MaxConcurrencyLimit")
            .and_then(|limit| limit.trim().parse().ok()),
    };
    match result {
        Ok(answer) => O::response_errors(&answer.response)
            .into_iter()
            .find(|error| *error.effective_code() == ResponseCode::ErrorExceededConnectionCount)
            .map_or(Outcome::Answered, |error| refused(&error.message_xml)),
        Err(Error::Fault(fault))
            if *effective_fault_code(fault) == ResponseCode::ErrorExceededConnectionCount =>
        {
            refused(&fault.message_xml)
        }
        Err(Error::Fault(_) | Error::Malformed(_) | Error::HttpStatus { .. }) => Outcome::Answered,
        Err(_) => Outcome::Unknown,
    }
}

/// How long to wait before retry number `retry` (1 for the first retry): Exchange's hint plus up
/// to 10 % (at least 20 ms) of jitter, or else exponential back-off from [`FIRST_BACK_OFF`] with
/// jitter in its upper half, capped at [`MAX_BACK_OFF`]. The jitter keeps the callers of one
/// paused account from all coming back in the same millisecond.
pub(crate) fn delay(hint: Option<Duration>, retry: u32, rng: &mut impl Rng) -> Duration {
    match hint {
        Some(hint) => {
            let spread = (hint / 10).max(Duration::from_millis(20));
            hint + spread.mul_f64(rng.gen_range(0.0..=1.0))
        }
        None => {
            let exponent = retry.saturating_sub(1).min(16);
            let full = FIRST_BACK_OFF
                .saturating_mul(1u32 << exponent)
                .min(MAX_BACK_OFF);
            full / 2 + (full / 2).mul_f64(rng.gen_range(0.0..=1.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;
    use crate::ews::ops::get_folder::GetFolder;
    use crate::ews::ops::update_folder::UpdateFolder;

    fn fixture(path: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/fixtures/ews/{path}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn answer<O: Operation>(path: &str) -> Result<Answer<O::Response>, Error> {
        match crate::ews::decode::<O>(&fixture(path)) {
            Ok(decoded) => Ok(Answer {
                response: decoded.response,
                account: "svc@contoso.example".to_owned(),
                server_version: None,
            }),
            Err(crate::ews::Error::Fault(fault)) => Err(Error::Fault(fault)),
            Err(other) => panic!("{path}: {other}"),
        }
    }

    fn transport_error(request_sent: bool) -> Error {
        Error::Transport(transport::Error::Connect {
            endpoint: "exchange".to_owned(),
            detail: "reset".to_owned(),
            request_sent,
            source: None,
        })
    }

    #[test]
    fn an_inner_server_busy_in_a_read_pauses_and_retries_with_its_hint() {
        let result = answer::<GetFolder>("get_folder/error_internal_server_error_busy.xml");
        assert!(matches!(
            verdict::<GetFolder>(&result),
            Verdict::Retry {
                throttled: true,
                ..
            }
        ));
    }

    #[test]
    fn exceeded_connection_count_backs_off_alone_and_names_the_limit() {
        let crowded = answer::<GetFolder>("soap_fault/error_exceeded_connection_count.xml");
        // Resent even for a write: Exchange refused it before running it.
        let as_write = crowded.as_ref().map(|_| Answer {
            response: Vec::new(),
            account: String::new(),
            server_version: None,
        });
        let as_write = match as_write {
            Ok(answer) => Ok(answer),
            Err(Error::Fault(fault)) => Err(Error::Fault(fault.clone())),
            Err(other) => panic!("{other}"),
        };
        for verdict in [
            verdict::<GetFolder>(&crowded),
            verdict::<UpdateFolder>(&as_write),
        ] {
            assert_eq!(
                verdict,
                Verdict::Retry {
                    hint: None,
                    throttled: false
                },
                "no hint, and no pause of the whole account"
            );
        }
        assert_eq!(
            crowding_outcome::<GetFolder>(&crowded),
            Outcome::Refused {
                named_limit: Some(27)
            }
        );
        let busy = answer::<GetFolder>("soap_fault/error_server_busy.xml");
        assert_eq!(crowding_outcome::<GetFolder>(&busy), Outcome::Answered);
        assert_eq!(
            crowding_outcome::<GetFolder>(&Err(transport_error(true))),
            Outcome::Unknown
        );
    }

    #[test]
    fn soap_faults_retry_by_their_effective_kind() {
        let busy = answer::<GetFolder>("soap_fault/error_server_busy.xml");
        match verdict::<UpdateFolder>(&busy.map(|_| Answer {
            response: Vec::new(),
            account: String::new(),
            server_version: None,
        })) {
            Verdict::Retry {
                hint: Some(_),
                throttled: true,
            } => {}
            other => panic!("ErrorServerBusy must pause with its hint: {other:?}"),
        }
        let schema = answer::<GetFolder>("soap_fault/error_schema_validation.xml");
        assert_eq!(verdict::<GetFolder>(&schema), Verdict::Return);
        let denied = answer::<GetFolder>("soap_fault/error_impersonate_user_denied.xml");
        assert_eq!(verdict::<GetFolder>(&denied), Verdict::Return);
        // ErrorInternalServerError wrapping ErrorServerBusy is throttling.
        let Err(Error::Fault(mut fault)) =
            answer::<GetFolder>("soap_fault/error_internal_server_error.xml")
        else {
            panic!("a fault")
        };
        fault.message_xml.inner_error_code = Some(crate::ews::ResponseCode::ErrorServerBusy);
        assert_eq!(fault_kind(&fault), ErrorKind::Throttled);
        assert!(matches!(
            verdict::<GetFolder>(&Err(Error::Fault(fault))),
            Verdict::Retry {
                throttled: true,
                ..
            }
        ));
    }

    #[test]
    fn resets_are_retried_for_reads_and_for_writes_only_when_nothing_left() {
        let retry = Verdict::Retry {
            hint: None,
            throttled: false,
        };
        assert_eq!(verdict::<GetFolder>(&Err(transport_error(true))), retry);
        assert_eq!(
            verdict::<UpdateFolder>(&Err(transport_error(true))),
            Verdict::Return
        );
        assert_eq!(verdict::<UpdateFolder>(&Err(transport_error(false))), retry);
        let timeout = Error::Transport(transport::Error::Timeout {
            endpoint: "exchange".to_owned(),
            phase: "request",
            after: Duration::from_secs(1),
        });
        assert_eq!(verdict::<UpdateFolder>(&Err(timeout)), Verdict::Return);
    }

    #[test]
    fn certificate_and_name_resolution_failures_are_never_retried() {
        let certificate = Error::Transport(transport::Error::Certificate {
            endpoint: "exchange".to_owned(),
            reason: "unknown issuer".to_owned(),
        });
        assert_eq!(verdict::<GetFolder>(&Err(certificate)), Verdict::Return);
        let name = Error::Transport(transport::Error::NameNotResolved {
            host: "exchange.contoso.invalid".to_owned(),
            detail: "no such name".to_owned(),
            url_key: Some("exchange.url"),
        });
        assert_eq!(verdict::<GetFolder>(&Err(name)), Verdict::Return);
        // A handshake the server broke off, a refused or reset connection, a resolver that did
        // not answer: these may pass, and reads are retried as before.
        let handshake = Error::Transport(transport::Error::Tls {
            endpoint: "exchange".to_owned(),
            reason: "tls handshake failed: received fatal alert".to_owned(),
        });
        let retry = Verdict::Retry {
            hint: None,
            throttled: false,
        };
        assert_eq!(verdict::<GetFolder>(&Err(handshake)), retry);
        assert_eq!(verdict::<GetFolder>(&Err(transport_error(false))), retry);
    }

    #[test]
    fn refusals_fail_over_and_503_is_throttling() {
        let refused = Error::Transport(transport::Error::AuthRejected {
            username: "CONTOSO\\svc".to_owned(),
            detail: "401".to_owned(),
        });
        assert_eq!(verdict::<UpdateFolder>(&Err(refused)), Verdict::FailOver);
        let busy = Error::HttpStatus {
            status: 503,
            retry_after: Some(Duration::from_secs(2)),
        };
        assert_eq!(
            verdict::<UpdateFolder>(&Err(busy)),
            Verdict::Retry {
                hint: Some(Duration::from_secs(2)),
                throttled: true
            }
        );
        let proxy = Error::HttpStatus {
            status: 502,
            retry_after: None,
        };
        assert_eq!(verdict::<GetFolder>(&Err(proxy)), Verdict::Return);
    }

    #[test]
    fn back_off_honours_the_hint_and_otherwise_doubles_with_jitter() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..100 {
            let with_hint = delay(Some(Duration::from_millis(500)), 3, &mut rng);
            assert!(with_hint >= Duration::from_millis(500));
            assert!(with_hint <= Duration::from_millis(550));
            let first = delay(None, 1, &mut rng);
            assert!(first >= FIRST_BACK_OFF / 2 && first <= FIRST_BACK_OFF);
            let third = delay(None, 3, &mut rng);
            assert!(third >= FIRST_BACK_OFF * 2 && third <= FIRST_BACK_OFF * 4);
            assert!(delay(None, 40, &mut rng) <= MAX_BACK_OFF);
        }
    }
}
