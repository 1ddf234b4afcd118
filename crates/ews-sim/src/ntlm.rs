//! The simulator's own NTLM acceptor: builds CHALLENGE messages and verifies NTLMv2
//! AUTHENTICATE messages against a configured password ([MS-NLMP] 2.2.1, 3.3.2).
//!
//! Written apart from any client code in this crate, so a client bug cannot be mirrored here.
//! Invariants: only NTLMv2 is accepted (an NT response of 24 bytes is NTLMv1 and refused, as with
//! LmCompatibilityLevel 5); the proof is compared in constant time; nothing here logs or returns
//! a password, hash or key.
//! Entry types: [`NtlmMessage`], [`Challenge`], [`Authenticate`], [`verify_ntlmv2`].

use hmac::{Hmac, Mac};
use md4::{Digest, Md4};
use md5::Md5;
use subtle::ConstantTimeEq;

const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

const NEGOTIATE_UNICODE: u32 = 0x0000_0001;
const REQUEST_TARGET: u32 = 0x0000_0004;
const NEGOTIATE_NTLM: u32 = 0x0000_0200;
const NEGOTIATE_ALWAYS_SIGN: u32 = 0x0000_8000;
const TARGET_TYPE_DOMAIN: u32 = 0x0001_0000;
const NEGOTIATE_EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
const NEGOTIATE_TARGET_INFO: u32 = 0x0080_0000;
const NEGOTIATE_VERSION: u32 = 0x0200_0000;
const NEGOTIATE_128: u32 = 0x2000_0000;
const NEGOTIATE_KEY_EXCH: u32 = 0x4000_0000;
const NEGOTIATE_56: u32 = 0x8000_0000;

/// A decoded NTLM message, by type.
#[derive(Debug)]
pub(crate) enum NtlmMessage {
    Negotiate,
    Authenticate(Authenticate),
}

/// What the verifier needs from an AUTHENTICATE message.
#[derive(Debug)]
pub(crate) struct Authenticate {
    pub domain: String,
    pub user: String,
    /// The NT challenge response: NTProofStr (16 bytes) + blob for NTLMv2; 24 bytes for NTLMv1.
    pub nt_response: Vec<u8>,
}

/// Why an NTLM token was not usable.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NtlmError {
    #[error("not an ntlm message")]
    NotNtlm,
    #[error("ntlm message truncated or with a field outside the message")]
    Truncated,
    #[error("unexpected ntlm message type {0}")]
    UnexpectedType(u32),
}

/// The names the server announces in its CHALLENGE target info.
pub(crate) struct Challenge<'a> {
    pub server_challenge: [u8; 8],
    pub netbios_domain: &'a str,
    pub netbios_computer: &'a str,
    pub dns_computer: &'a str,
    pub dns_domain: &'a str,
    /// FILETIME: 100 ns intervals since 1601-01-01.
    pub timestamp: u64,
}

impl Challenge<'_> {
    /// The CHALLENGE_MESSAGE bytes (target name = NetBIOS domain; target info with the AV pairs
    /// MsvAvNbDomainName, MsvAvNbComputerName, MsvAvDnsDomainName, MsvAvDnsComputerName,
    /// MsvAvTimestamp, MsvAvEOL).
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let target_name = utf16le(self.netbios_domain);
        let mut target_info = Vec::new();
        let mut av_pair = |id: u16, value: &[u8]| {
            target_info.extend_from_slice(&id.to_le_bytes());
            target_info.extend_from_slice(&(value.len() as u16).to_le_bytes());
            target_info.extend_from_slice(value);
        };
        av_pair(2, &utf16le(self.netbios_domain));
        av_pair(1, &utf16le(self.netbios_computer));
        av_pair(4, &utf16le(self.dns_domain));
        av_pair(3, &utf16le(self.dns_computer));
        av_pair(7, &self.timestamp.to_le_bytes());
        av_pair(0, &[]);

        let flags = NEGOTIATE_UNICODE
            | REQUEST_TARGET
            | NEGOTIATE_NTLM
            | NEGOTIATE_ALWAYS_SIGN
            | TARGET_TYPE_DOMAIN
            | NEGOTIATE_EXTENDED_SESSIONSECURITY
            | NEGOTIATE_TARGET_INFO
            | NEGOTIATE_VERSION
            | NEGOTIATE_128
            | NEGOTIATE_KEY_EXCH
            | NEGOTIATE_56;
        let header_len = 56u32;
        let target_name_offset = header_len;
        let target_info_offset = header_len + target_name.len() as u32;

        let mut message =
            Vec::with_capacity(header_len as usize + target_name.len() + target_info.len());
        message.extend_from_slice(SIGNATURE);
        message.extend_from_slice(&2u32.to_le_bytes());
        push_field(&mut message, target_name.len(), target_name_offset);
        message.extend_from_slice(&flags.to_le_bytes());
        message.extend_from_slice(&self.server_challenge);
        message.extend_from_slice(&[0u8; 8]);
        push_field(&mut message, target_info.len(), target_info_offset);
        // Version: Windows Server 2016 (10.0 build 14393), NTLM revision 15.
        message.extend_from_slice(&[10, 0, 0x39, 0x38, 0, 0, 0, 15]);
        message.extend_from_slice(&target_name);
        message.extend_from_slice(&target_info);
        message
    }
}

/// Decodes a NEGOTIATE or AUTHENTICATE message.
pub(crate) fn parse(token: &[u8]) -> Result<NtlmMessage, NtlmError> {
    if token.len() < 12 || &token[..8] != SIGNATURE {
        return Err(NtlmError::NotNtlm);
    }
    let message_type = read_u32(token, 8)?;
    match message_type {
        1 => Ok(NtlmMessage::Negotiate),
        3 => {
            let nt_response = field(token, 20)?.to_vec();
            let domain_bytes = field(token, 28)?;
            let user_bytes = field(token, 36)?;
            let flags = if token.len() >= 64 {
                read_u32(token, 60)?
            } else {
                NEGOTIATE_UNICODE
            };
            let decode = |bytes: &[u8]| {
                if flags & NEGOTIATE_UNICODE != 0 {
                    from_utf16le(bytes)
                } else {
                    String::from_utf8_lossy(bytes).into_owned()
                }
            };
            Ok(NtlmMessage::Authenticate(Authenticate {
                domain: decode(domain_bytes),
                user: decode(user_bytes),
                nt_response,
            }))
        }
        other => Err(NtlmError::UnexpectedType(other)),
    }
}

/// Whether `authenticate` proves knowledge of `password` for `server_challenge` (NTLMv2 only).
pub(crate) fn verify_ntlmv2(
    authenticate: &Authenticate,
    server_challenge: &[u8; 8],
    password: &str,
) -> bool {
    // NTLMv1 responses are exactly 24 bytes; NTLMv2 = 16-byte proof + a blob of at least 28 bytes.
    if authenticate.nt_response.len() < 16 + 28 {
        return false;
    }
    let (proof, blob) = authenticate.nt_response.split_at(16);
    let nt_hash = Md4::digest(utf16le(password));
    let identity = format!(
        "{}{}",
        authenticate.user.to_uppercase(),
        authenticate.domain
    );
    let response_key = hmac_md5(&nt_hash, &[&utf16le(&identity)]);
    let expected = hmac_md5(&response_key, &[server_challenge, blob]);
    expected.ct_eq(proof).into()
}

fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    let mut mac = <Hmac<Md5> as Mac>::new_from_slice(key).expect("hmac accepts any key length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

pub(crate) fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn from_utf16le(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

fn push_field(message: &mut Vec<u8>, len: usize, offset: u32) {
    message.extend_from_slice(&(len as u16).to_le_bytes());
    message.extend_from_slice(&(len as u16).to_le_bytes());
    message.extend_from_slice(&offset.to_le_bytes());
}

fn read_u32(token: &[u8], at: usize) -> Result<u32, NtlmError> {
    let bytes = token.get(at..at + 4).ok_or(NtlmError::Truncated)?;
    Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// The payload of a (len, maxlen, offset) security buffer starting at `at`.
fn field(token: &[u8], at: usize) -> Result<&[u8], NtlmError> {
    let header = token.get(at..at + 8).ok_or(NtlmError::Truncated)?;
    let len = u16::from_le_bytes([header[0], header[1]]) as usize;
    let offset = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
    if len == 0 {
        return Ok(&[]);
    }
    token.get(offset..offset + len).ok_or(NtlmError::Truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [MS-NLMP] 4.2.4 test vectors: user "User", domain "Domain", password "Password",
    /// server challenge 0123456789abcdef; the expected NTProofStr is 68cd0ab851e51c96aabc927bebef6a1c.
    #[test]
    fn ms_nlmp_ntlmv2_vector_verifies_and_wrong_password_does_not() {
        let server_challenge = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
        let mut blob = vec![0x01, 0x01, 0, 0, 0, 0, 0, 0];
        blob.extend_from_slice(&[0u8; 8]); // time
        blob.extend_from_slice(&[0xaa; 8]); // client challenge
        blob.extend_from_slice(&[0u8; 4]);
        // AV pairs from the spec: NbDomainName "Domain", NbComputerName "Server", EOL.
        for (id, value) in [(2u16, "Domain"), (1u16, "Server")] {
            let value = utf16le(value);
            blob.extend_from_slice(&id.to_le_bytes());
            blob.extend_from_slice(&(value.len() as u16).to_le_bytes());
            blob.extend_from_slice(&value);
        }
        blob.extend_from_slice(&[0u8; 4]);
        blob.extend_from_slice(&[0u8; 4]);
        let mut nt_response = hex::decode("68cd0ab851e51c96aabc927bebef6a1c").unwrap();
        nt_response.extend_from_slice(&blob);
        let authenticate = Authenticate {
            domain: "Domain".into(),
            user: "User".into(),
            nt_response,
        };
        assert!(verify_ntlmv2(&authenticate, &server_challenge, "Password"));
        assert!(!verify_ntlmv2(&authenticate, &server_challenge, "password"));
        assert!(!verify_ntlmv2(&authenticate, &[0u8; 8], "Password"));
    }

    #[test]
    fn ntlmv1_length_response_is_refused() {
        let authenticate = Authenticate {
            domain: "D".into(),
            user: "U".into(),
            nt_response: vec![0u8; 24],
        };
        assert!(!verify_ntlmv2(&authenticate, &[0u8; 8], "Password"));
    }

    #[test]
    fn challenge_carries_the_target_info_pairs() {
        let challenge = Challenge {
            server_challenge: [7; 8],
            netbios_domain: "CONTOSO",
            netbios_computer: "EXCH01",
            dns_computer: "exch01.contoso.example",
            dns_domain: "contoso.example",
            timestamp: 42,
        };
        let bytes = challenge.to_bytes();
        assert_eq!(&bytes[..8], SIGNATURE);
        assert_eq!(read_u32(&bytes, 8).unwrap(), 2);
        assert_eq!(&bytes[24..32], &[7; 8]);
        let info = field(&bytes, 40).unwrap();
        let mut ids = Vec::new();
        let mut at = 0;
        while at + 4 <= info.len() {
            let id = u16::from_le_bytes([info[at], info[at + 1]]);
            let len = u16::from_le_bytes([info[at + 2], info[at + 3]]) as usize;
            ids.push(id);
            at += 4 + len;
        }
        assert_eq!(ids, vec![2, 1, 4, 3, 7, 0]);
        assert!(matches!(parse(&bytes), Err(NtlmError::UnexpectedType(2))));
    }
}
