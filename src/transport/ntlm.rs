//! NTLMv2 messages for HTTP authentication, wrapping the `ntlmclient` crate.
//!
//! The three legs (negotiate, challenge, authenticate) run on one connection; the driving loop is
//! in `transport::mod`, this file builds and reads the messages.
//!
//! Invariants:
//! - NTLMv2 only: the NTLMv1 and LM functions of `ntlmclient` are never called;
//! - the session key is never sent (no KEY_EXCHANGE, empty session key field) and the computed
//!   one is wiped as soon as the response is built;
//! - when the server's challenge carries `MsvAvTimestamp`, that time is used and the LM response
//!   is 24 zero bytes (MS-NLMP 3.1.5.1.2);
//! - a channel binding, when given, is `MD5(gss_channel_bindings_struct)` with all-zero addresses
//!   and application data `tls-server-end-point:<hash>`, inserted as `MsvAvChannelBindings`
//!   before the `MsvAvEOL` terminator (replacing any the server sent).
//!
//! Entry points: [`negotiate_message`], [`parse_challenge`], [`authenticate_message`],
//! [`split_username`], [`HttpScheme`].

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use md5::{Digest, Md5};
use ntlmclient::{
    AuthenticateMessage, ChallengeMessage, Flags, Message, NegotiateMessage, TargetInfoEntry,
    TargetInfoType,
};

use crate::secret::Secret;

/// `MsvAvTimestamp`, `MsvAvTargetName` and `MsvAvChannelBindings` ids (MS-NLMP 2.2.2.1).
const AV_TIMESTAMP: u16 = 7;
const AV_TARGET_NAME: u16 = 9;
const AV_CHANNEL_BINDINGS: u16 = 10;

/// The HTTP authentication scheme that carries the NTLM tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HttpScheme {
    /// `WWW-Authenticate: NTLM`, preferred when offered.
    Ntlm,
    /// `WWW-Authenticate: Negotiate`, with raw NTLM tokens (IIS and SSPI accept them).
    Negotiate,
}

impl HttpScheme {
    pub(crate) fn name(self) -> &'static str {
        match self {
            HttpScheme::Ntlm => "NTLM",
            HttpScheme::Negotiate => "Negotiate",
        }
    }

    /// The scheme to use given the `WWW-Authenticate` values of a 401: NTLM when listed, else
    /// Negotiate, else none.
    pub(crate) fn choose<'a>(
        www_authenticate: impl IntoIterator<Item = &'a str>,
    ) -> Option<HttpScheme> {
        let mut negotiate = false;
        for value in www_authenticate {
            let scheme = value.split_whitespace().next().unwrap_or("");
            if scheme.eq_ignore_ascii_case("NTLM") {
                return Some(HttpScheme::Ntlm);
            }
            if scheme.eq_ignore_ascii_case("Negotiate") {
                negotiate = true;
            }
        }
        negotiate.then_some(HttpScheme::Negotiate)
    }

    /// The base64 token of this scheme in the `WWW-Authenticate` values, decoded.
    pub(crate) fn token<'a>(
        self,
        www_authenticate: impl IntoIterator<Item = &'a str>,
    ) -> Option<Vec<u8>> {
        www_authenticate.into_iter().find_map(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            if !scheme.eq_ignore_ascii_case(self.name()) {
                return None;
            }
            BASE64.decode(token.trim()).ok()
        })
    }

    /// The `Authorization` header value carrying `token`.
    pub(crate) fn authorization(self, token: &[u8]) -> String {
        format!("{} {}", self.name(), BASE64.encode(token))
    }
}

/// Why an NTLM message could not be read or built.
#[derive(Debug, thiserror::Error)]
pub(crate) enum NtlmError {
    #[error("the server's ntlm challenge cannot be parsed: {0}")]
    BadChallenge(String),
    #[error("the server sent an ntlm message of type {0} where a challenge was expected")]
    NotAChallenge(u32),
    #[error("the server's ntlm challenge has no target information (ntlmv2 needs it)")]
    NoTargetInfo,
    #[error("cannot encode the ntlm authenticate message: {0}")]
    Encode(String),
}

/// The flags we ask for: Unicode, target info, NTLMv2-style extended session security, 128/56.
/// No KEY_EXCHANGE, SIGN or SEAL: HTTP authentication needs no session security.
pub(crate) fn requested_flags() -> Flags {
    Flags::NEGOTIATE_UNICODE
        | Flags::REQUEST_TARGET
        | Flags::NEGOTIATE_NTLM
        | Flags::NEGOTIATE_ALWAYS_SIGN
        | Flags::NEGOTIATE_NTLM2_KEY
        | Flags::NEGOTIATE_TARGET_INFO
        | Flags::NEGOTIATE_128BIT
        | Flags::NEGOTIATE_56BIT
}

/// The NEGOTIATE (type 1) message.
pub(crate) fn negotiate_message() -> Vec<u8> {
    let message = Message::Negotiate(NegotiateMessage {
        flags: requested_flags(),
        supplied_domain: String::new(),
        supplied_workstation: String::new(),
        os_version: Default::default(),
    });
    message
        .to_bytes()
        .expect("a negotiate message with empty names always encodes")
}

/// Parses the CHALLENGE (type 2) message.
///
/// # Errors
/// [`NtlmError`] when the bytes are not a well-formed challenge.
pub(crate) fn parse_challenge(bytes: &[u8]) -> Result<ChallengeMessage, NtlmError> {
    // ntlmclient checks every length and buffer offset before slicing, so malformed input
    // comes back as a ParsingError rather than a panic.
    let parsed = Message::try_from(bytes);
    match parsed.map_err(|error| NtlmError::BadChallenge(format!("{error:?}")))? {
        Message::Challenge(challenge) => Ok(challenge),
        other => Err(NtlmError::NotAChallenge(other.message_number())),
    }
}

/// Splits `DOMAIN\user` into (`DOMAIN`, `user`); a UPN `user@upn` keeps an empty domain and the
/// whole UPN as the user name, as Windows does.
pub(crate) fn split_username(username: &str) -> (&str, &str) {
    match username.split_once('\\') {
        Some((domain, user)) => (domain, user),
        None => ("", username),
    }
}

/// MD5 of the `gss_channel_bindings_struct` for `tls-server-end-point:<end_point_hash>`:
/// initiator and acceptor address types and lengths are zero, then the application data length
/// and the data (all lengths little-endian 32-bit, as SSPI and pyspnego lay them out).
pub(crate) fn channel_bindings_hash(end_point_hash: &[u8]) -> [u8; 16] {
    let mut application_data = b"tls-server-end-point:".to_vec();
    application_data.extend_from_slice(end_point_hash);
    let mut structure = vec![0u8; 16];
    structure.extend_from_slice(&(application_data.len() as u32).to_le_bytes());
    structure.extend_from_slice(&application_data);
    Md5::digest(&structure).into()
}

/// The server's `MsvAvTimestamp` (FILETIME, 100 ns since 1601) when it sent one.
pub(crate) fn server_timestamp(target_info: &[TargetInfoEntry]) -> Option<i64> {
    target_info
        .iter()
        .find(|entry| u16::from(entry.entry_type) == AV_TIMESTAMP && entry.data.len() == 8)
        .map(|entry| i64::from_le_bytes(entry.data[..8].try_into().expect("length checked")))
}

/// The target info the client proves: the server's pairs without its terminator, our
/// `MsvAvTargetName` and `MsvAvChannelBindings` (replacing any the server sent), then `MsvAvEOL`.
pub(crate) fn rewrite_target_info(
    server_pairs: &[TargetInfoEntry],
    target_name: Option<&str>,
    channel_bindings: Option<[u8; 16]>,
) -> Vec<u8> {
    let mut pairs: Vec<TargetInfoEntry> = server_pairs
        .iter()
        .filter(|entry| {
            let id = u16::from(entry.entry_type);
            id != 0
                && !(id == AV_TARGET_NAME && target_name.is_some())
                && !(id == AV_CHANNEL_BINDINGS && channel_bindings.is_some())
        })
        .cloned()
        .collect();
    if let Some(name) = target_name {
        pairs.push(TargetInfoEntry::from_string(
            TargetInfoType::TargetName,
            name,
        ));
    }
    if let Some(hash) = channel_bindings {
        pairs.push(TargetInfoEntry {
            entry_type: TargetInfoType::ChannelBindings,
            data: hash.to_vec(),
        });
    }
    pairs.push(TargetInfoEntry {
        entry_type: TargetInfoType::Terminator,
        data: Vec::new(),
    });
    pairs.iter().flat_map(TargetInfoEntry::to_bytes).collect()
}

/// Builds the AUTHENTICATE (type 3) message answering `challenge` with an NTLMv2 response.
///
/// `end_point_hash` is the TLS `tls-server-end-point` value when channel binding is on;
/// `target_name` is the SPN `HTTP/<host>`.
///
/// # Errors
/// [`NtlmError`] when the challenge has no target info or the message cannot be encoded.
pub(crate) fn authenticate_message(
    challenge: &ChallengeMessage,
    username: &str,
    password: &Secret,
    target_name: Option<&str>,
    end_point_hash: Option<&[u8]>,
) -> Result<Vec<u8>, NtlmError> {
    if challenge.target_information.is_empty() {
        return Err(NtlmError::NoTargetInfo);
    }
    let (domain, user) = split_username(username);
    let target_info = rewrite_target_info(
        &challenge.target_information,
        target_name,
        end_point_hash.map(channel_bindings_hash),
    );
    let server_time = server_timestamp(&challenge.target_information);
    let time = server_time.unwrap_or_else(ntlmclient::get_ntlm_time);

    let mut credentials = ntlmclient::Credentials {
        username: user.to_owned(),
        password: password.expose().to_owned(),
        domain: domain.to_owned(),
    };
    let response = ntlmclient::respond_challenge_ntlm_v2(
        challenge.challenge,
        &target_info,
        time,
        &credentials,
    );
    wipe(std::mem::take(&mut credentials.password).into_bytes());
    let ntlmclient::ChallengeResponse {
        lm_response,
        ntlm_response,
        session_key,
    } = response;
    // The key exchange key is only needed for signing or sealing, which HTTP does not use.
    wipe(session_key);

    let lm_response = if server_time.is_some() {
        vec![0u8; 24]
    } else {
        lm_response
    };
    let mut flags = requested_flags() & challenge.flags;
    if !flags.contains(Flags::NEGOTIATE_OEM) {
        flags |= Flags::NEGOTIATE_UNICODE;
    }
    let message = Message::Authenticate(AuthenticateMessage {
        lm_response,
        ntlm_response,
        domain_name: credentials.domain,
        user_name: credentials.username,
        workstation_name: String::new(),
        session_key: Vec::new(),
        flags,
        os_version: Default::default(),
    });
    message
        .to_bytes()
        .map_err(|error| NtlmError::Encode(format!("{error:?}")))
}

/// Overwrites secret bytes before their memory is freed.
fn wipe(mut bytes: Vec<u8>) {
    bytes.fill(0);
    std::hint::black_box(&bytes);
}

#[cfg(test)]
mod tests {
    use ntlmclient::{ChallengeMessage, Flags, Message, TargetInfoEntry, TargetInfoType};

    use crate::secret::Secret;
    use crate::transport::ntlm::{
        HttpScheme, authenticate_message, channel_bindings_hash, negotiate_message,
        parse_challenge, rewrite_target_info, server_timestamp, split_username,
    };

    const SERVER_TIME: i64 = 0x01db_0000_1234_5678;

    fn challenge(with_timestamp: bool, extra: Vec<TargetInfoEntry>) -> ChallengeMessage {
        let mut target_information = vec![
            TargetInfoEntry::from_string(TargetInfoType::NtDomain, "CONTOSO"),
            TargetInfoEntry::from_string(TargetInfoType::NtServer, "EX01"),
        ];
        if with_timestamp {
            target_information.push(TargetInfoEntry {
                entry_type: TargetInfoType::Timestamp,
                data: SERVER_TIME.to_le_bytes().to_vec(),
            });
        }
        target_information.extend(extra);
        target_information.push(TargetInfoEntry {
            entry_type: TargetInfoType::Terminator,
            data: vec![],
        });
        ChallengeMessage {
            target_name: "CONTOSO".to_owned(),
            flags: crate::transport::ntlm::requested_flags() | Flags::TARGET_TYPE_DOMAIN,
            challenge: *b"\x01\x23\x45\x67\x89\xab\xcd\xef",
            context: (0, 0),
            target_information,
            os_version: Default::default(),
        }
    }

    /// Splits serialized AV pairs back into (id, data).
    fn pairs(bytes: &[u8]) -> Vec<(u16, Vec<u8>)> {
        let mut out = Vec::new();
        let mut rest = bytes;
        while rest.len() >= 4 {
            let id = u16::from_le_bytes([rest[0], rest[1]]);
            let len = u16::from_le_bytes([rest[2], rest[3]]) as usize;
            out.push((id, rest[4..4 + len].to_vec()));
            rest = &rest[4 + len..];
        }
        assert!(rest.is_empty(), "trailing bytes after the AV pairs");
        out
    }

    fn parse_authenticate(bytes: &[u8]) -> ntlmclient::AuthenticateMessage {
        match Message::try_from(bytes).unwrap() {
            Message::Authenticate(message) => message,
            other => panic!(
                "expected an authenticate message, got type {}",
                other.message_number()
            ),
        }
    }

    #[test]
    fn usernames_split_like_windows() {
        assert_eq!(split_username("CONTOSO\\svc-mytt"), ("CONTOSO", "svc-mytt"));
        assert_eq!(
            split_username("svc-mytt@contoso.example"),
            ("", "svc-mytt@contoso.example")
        );
        assert_eq!(split_username("svc-mytt"), ("", "svc-mytt"));
    }

    #[test]
    fn channel_binding_goes_before_the_terminator_and_replaces_the_servers() {
        let server = challenge(
            true,
            vec![TargetInfoEntry {
                entry_type: TargetInfoType::ChannelBindings,
                data: vec![0; 16],
            }],
        );
        let hash = [7u8; 16];
        let rewritten = pairs(&rewrite_target_info(
            &server.target_information,
            Some("HTTP/ex01"),
            Some(hash),
        ));
        let ids: Vec<u16> = rewritten.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, vec![2, 1, 7, 9, 10, 0]);
        assert_eq!(rewritten[4].1, hash.to_vec());
        assert_eq!(
            rewritten[3].1,
            "HTTP/ex01"
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<u8>>()
        );
        assert!(rewritten[5].1.is_empty());
        // Without a binding the server's pairs pass through untouched.
        let plain = pairs(&rewrite_target_info(&server.target_information, None, None));
        assert_eq!(
            plain.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            vec![2, 1, 7, 10, 0]
        );
    }

    #[test]
    fn the_servers_timestamp_is_found() {
        assert_eq!(
            server_timestamp(&challenge(true, vec![]).target_information),
            Some(SERVER_TIME)
        );
        assert_eq!(
            server_timestamp(&challenge(false, vec![]).target_information),
            None
        );
    }

    #[test]
    fn channel_bindings_hash_matches_the_gss_layout() {
        // gss_channel_bindings_struct: 4 x u32 zero, u32 length, "tls-server-end-point:" + hash.
        let end_point = [0xabu8; 32];
        let mut structure = vec![0u8; 16];
        structure.extend_from_slice(&(21u32 + 32).to_le_bytes());
        structure.extend_from_slice(b"tls-server-end-point:");
        structure.extend_from_slice(&end_point);
        use md5::Digest;
        let expected: [u8; 16] = md5::Md5::digest(&structure).into();
        assert_eq!(channel_bindings_hash(&end_point), expected);
    }

    #[test]
    fn authenticate_is_ntlmv2_without_session_key_and_uses_server_time() {
        let server = challenge(true, vec![]);
        let end_point = [0x11u8; 32];
        let bytes = authenticate_message(
            &server,
            "CONTOSO\\svc-mytt",
            &Secret::new("S3rvice!Pass"),
            Some("HTTP/ex01"),
            Some(&end_point),
        )
        .unwrap();
        let message = parse_authenticate(&bytes);
        assert!(
            message.session_key.is_empty(),
            "the session key must never be sent"
        );
        assert!(!message.flags.contains(Flags::NEGOTIATE_KEY_EXCHANGE));
        assert!(
            message.ntlm_response.len() > 24,
            "an NTLMv2 response is longer than 24 bytes"
        );
        assert_eq!(
            message.lm_response,
            vec![0u8; 24],
            "with a server timestamp the LM response is zero"
        );
        assert_eq!(message.domain_name, "CONTOSO");
        assert_eq!(message.user_name, "svc-mytt");
        // The NTLMv2 blob: 16-byte proof, then 0x0101, reserved, timestamp, client challenge,
        // reserved, the AV pairs, and 4 zero bytes.
        let blob = &message.ntlm_response[16..];
        assert_eq!(&blob[..2], &[1, 1]);
        assert_eq!(
            i64::from_le_bytes(blob[8..16].try_into().unwrap()),
            SERVER_TIME
        );
        let av = pairs(&blob[28..blob.len() - 4]);
        let binding = av
            .iter()
            .find(|(id, _)| *id == 10)
            .expect("channel bindings present");
        assert_eq!(binding.1, channel_bindings_hash(&end_point).to_vec());
        assert_eq!(av.last().unwrap().0, 0);
        // The password never appears in the message, in UTF-16 or UTF-8.
        let utf16: Vec<u8> = "S3rvice!Pass"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert!(
            !bytes
                .windows(utf16.len())
                .any(|window| window == utf16.as_slice())
        );
        assert!(!bytes.windows(12).any(|window| window == b"S3rvice!Pass"));
    }

    #[test]
    fn without_server_time_an_lmv2_response_is_sent() {
        let bytes = authenticate_message(
            &challenge(false, vec![]),
            "u@contoso.example",
            &Secret::new("x"),
            None,
            None,
        )
        .unwrap();
        let message = parse_authenticate(&bytes);
        assert_eq!(message.lm_response.len(), 24);
        assert_ne!(message.lm_response, vec![0u8; 24]);
        assert_eq!(message.domain_name, "");
        assert_eq!(message.user_name, "u@contoso.example");
        let blob = &message.ntlm_response[16..];
        let av = pairs(&blob[28..blob.len() - 4]);
        assert!(
            av.iter().all(|(id, _)| *id != 10),
            "no channel binding when none is given"
        );
    }

    /// A CHALLENGE laid out as MS-NLMP 2.2.1.2 describes it, written independently of
    /// ntlmclient's encoder (which puts the reserved context field in the payload).
    fn challenge_bytes(server: &ChallengeMessage) -> Vec<u8> {
        let target_info: Vec<u8> = server
            .target_information
            .iter()
            .flat_map(TargetInfoEntry::to_bytes)
            .collect();
        let name: Vec<u8> = server
            .target_name
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let mut bytes = b"NTLMSSP\0".to_vec();
        bytes.extend_from_slice(&2u32.to_le_bytes());
        let name_offset = 56u32;
        bytes.extend_from_slice(&(name.len() as u16).to_le_bytes());
        bytes.extend_from_slice(&(name.len() as u16).to_le_bytes());
        bytes.extend_from_slice(&name_offset.to_le_bytes());
        bytes.extend_from_slice(&server.flags.bits().to_le_bytes());
        bytes.extend_from_slice(&server.challenge);
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(&(target_info.len() as u16).to_le_bytes());
        bytes.extend_from_slice(&(target_info.len() as u16).to_le_bytes());
        bytes.extend_from_slice(&(name_offset + name.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&[10, 0, 0x7c, 0x4f, 0, 0, 0, 15]);
        bytes.extend_from_slice(&name);
        bytes.extend_from_slice(&target_info);
        bytes
    }

    #[test]
    fn challenges_are_parsed_and_garbage_is_refused() {
        let server = challenge(true, vec![]);
        let parsed = parse_challenge(&challenge_bytes(&server)).unwrap();
        assert_eq!(parsed.challenge, server.challenge);
        assert_eq!(parsed.target_name, "CONTOSO");
        assert_eq!(
            server_timestamp(&parsed.target_information),
            Some(SERVER_TIME)
        );
        assert!(parse_challenge(b"NTLMSSP\0\x02\0\0\0short").is_err());
        assert!(parse_challenge(&negotiate_message()).is_err());
        assert!(parse_challenge(b"<html>").is_err());
        // A target info buffer pointing outside the message is an error, not a panic.
        let mut broken = challenge_bytes(&server);
        broken[44..48].copy_from_slice(&4000u32.to_le_bytes());
        assert!(parse_challenge(&broken).is_err());
    }

    #[test]
    fn ntlm_is_preferred_over_negotiate() {
        assert_eq!(
            HttpScheme::choose(["Negotiate", "NTLM"]),
            Some(HttpScheme::Ntlm)
        );
        assert_eq!(
            HttpScheme::choose(["Negotiate", "Basic realm=\"x\""]),
            Some(HttpScheme::Negotiate)
        );
        assert_eq!(HttpScheme::choose(["Basic realm=\"x\""]), None);
        assert_eq!(
            HttpScheme::Ntlm.token(["Negotiate abc", "NTLM TlRMTVNTUAA="]),
            Some(b"NTLMSSP\0".to_vec())
        );
        assert_eq!(HttpScheme::Ntlm.token(["NTLM"]), None);
    }

    #[test]
    fn negotiate_asks_for_no_key_exchange_and_no_sealing() {
        let bytes = negotiate_message();
        let flags = Flags::from_bits_retain(u32::from_le_bytes(bytes[12..16].try_into().unwrap()));
        assert!(flags.contains(
            Flags::NEGOTIATE_NTLM2_KEY | Flags::NEGOTIATE_TARGET_INFO | Flags::NEGOTIATE_UNICODE
        ));
        assert!(!flags.intersects(
            Flags::NEGOTIATE_KEY_EXCHANGE | Flags::NEGOTIATE_SEAL | Flags::NEGOTIATE_SIGN
        ));
    }
}
