//! The DPoP key and proof of the AWS Sign-In token calls (RFC 9449, as botocore and the
//! AWS CLI make them): a P-256 key kept with the token, stored as the AWS CLI stores it
//! (SEC1 `EC PRIVATE KEY` PEM, 64-column base64), and per request an ES256 JWT
//! `{"typ":"dpop+jwt","alg":"ES256","jwk":…}.{"htm":"POST","htu":…,"iat":…,"jti":…}`
//! signed with raw r‖s. ECDSA is ring's (already in the binary through rustls); the DER
//! forms are fixed templates, so no ASN.1 parser is needed.

use crate::encode::{base64_decode, base64_encode};
use crate::json;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

/// SEC1 `ECPrivateKey` (RFC 5915) of a P-256 key, up to the private key `d`.
const SEC1_HEAD: [u8; 7] = [0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20];
/// After `d`: `[0]` namedCurve prime256v1, then `[1]` the BIT STRING public key.
const SEC1_MID: [u8; 17] = [
    0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0xa1, 0x44, 0x03, 0x42,
    0x00,
];
/// PKCS#8 of a P-256 key as ring writes it, up to `d`.
const PKCS8_HEAD: [u8; 36] = [
    0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
    0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x6d, 0x30, 0x6b, 0x02,
    0x01, 0x01, 0x04, 0x20,
];
/// In PKCS#8, after `d`: `[1]` the public key (no curve parameters inside).
const PKCS8_MID: [u8; 5] = [0xa1, 0x44, 0x03, 0x42, 0x00];

const PEM_BEGIN: &str = "-----BEGIN EC PRIVATE KEY-----";
const PEM_END: &str = "-----END EC PRIVATE KEY-----";

/// A P-256 key pair: the private scalar `d` and the uncompressed public point `q`.
pub struct DpopKey {
    pair: EcdsaKeyPair,
    d: [u8; 32],
}

impl Drop for DpopKey {
    fn drop(&mut self) {
        self.d.fill(0);
        std::hint::black_box(&self.d);
    }
}

/// `N` random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> Option<[u8; N]> {
    let mut b = [0u8; N];
    SystemRandom::new().fill(&mut b).ok()?;
    Some(b)
}

impl DpopKey {
    /// A new random key; `None` when the system has no randomness to give.
    pub fn generate() -> Option<DpopKey> {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).ok()?;
        let der = doc.as_ref();
        if der.len() != 138 || der[..36] != PKCS8_HEAD || der[68..73] != PKCS8_MID {
            return None;
        }
        DpopKey::from_parts(&der[36..68], &der[73..138])
    }

    fn from_parts(d: &[u8], q: &[u8]) -> Option<DpopKey> {
        let pair = EcdsaKeyPair::from_private_key_and_public_key(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            d,
            q,
            &SystemRandom::new(),
        )
        .ok()?;
        Some(DpopKey {
            pair,
            d: d.try_into().ok()?,
        })
    }

    /// Read the key from PEM text: SEC1 (`EC PRIVATE KEY`, as the AWS CLI writes it)
    /// or PKCS#8 (`PRIVATE KEY`, which botocore also reads), of a P-256 key with its
    /// public key. `None` for anything else, or a public key that does not belong to
    /// the private one.
    pub fn from_pem(pem: &str) -> Option<DpopKey> {
        let b64: String = pem
            .lines()
            .map(str::trim)
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let der = base64_decode(&b64, false)?;
        let (d, q) = if der.len() == 121 && der[..7] == SEC1_HEAD && der[39..56] == SEC1_MID {
            (&der[7..39], &der[56..121])
        } else if der.len() == 138 && der[..36] == PKCS8_HEAD && der[68..73] == PKCS8_MID {
            (&der[36..68], &der[73..138])
        } else {
            return None;
        };
        DpopKey::from_parts(d, q)
    }

    /// The key as the AWS CLI writes it: SEC1 DER (121 bytes), base64 in 64-column
    /// lines between `EC PRIVATE KEY` markers, with a final newline.
    pub fn to_pem(&self) -> String {
        let mut der = Vec::with_capacity(121);
        der.extend_from_slice(&SEC1_HEAD);
        der.extend_from_slice(&self.d);
        der.extend_from_slice(&SEC1_MID);
        der.extend_from_slice(self.pair.public_key().as_ref());
        let b64 = base64_encode(&der, false);
        der.fill(0);
        let mut out = format!("{PEM_BEGIN}\n");
        for line in b64.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(line));
            out.push('\n');
        }
        out.push_str(PEM_END);
        out.push('\n');
        out
    }

    /// The public key as a JWK (`kty`, `x`, `y`, `crv`, botocore's order).
    pub fn jwk(&self) -> String {
        let q = self.pair.public_key().as_ref();
        format!(
            r#"{{"kty":"EC","x":"{}","y":"{}","crv":"P-256"}}"#,
            base64_encode(q.get(1..33).unwrap_or_default(), true),
            base64_encode(q.get(33..65).unwrap_or_default(), true)
        )
    }

    /// The DPoP proof for a POST to `htu` at Unix time `iat`, with the unique id `jti`.
    /// `None` when signing fails (no randomness).
    pub fn proof(&self, htu: &str, iat: i64, jti: &str) -> Option<String> {
        let header = format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{}}}"#, self.jwk());
        let claims = format!(
            r#"{{"htm":"POST","htu":{},"iat":{iat},"jti":{}}}"#,
            json::string(htu),
            json::string(jti)
        );
        let signing_input = format!(
            "{}.{}",
            base64_encode(header.as_bytes(), true),
            base64_encode(claims.as_bytes(), true)
        );
        let sig = self
            .pair
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .ok()?;
        Some(format!(
            "{signing_input}.{}",
            base64_encode(sig.as_ref(), true)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key of the AWS CLI's own tests.
    const CLI_PEM: &str = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIHjt7c+VnkIkN6RW7QgZPFNLb/9AZEhqSYYMtwrlLb3WoAoGCCqGSM49\nAwEHoUQDQgAEv2FjRpMtADMZ4zoZxshV9chEkembgzZnXSUNe+DA8dKqXN/7qTcZ\njYJHKIi+Rn88zUGqCJo3DWF/X+ufVfdU2g==\n-----END EC PRIVATE KEY-----\n";

    #[test]
    fn reads_and_writes_the_cli_pem_unchanged() {
        let key = DpopKey::from_pem(CLI_PEM).unwrap();
        assert_eq!(key.to_pem(), CLI_PEM);
        let fresh = DpopKey::generate().unwrap();
        let again = DpopKey::from_pem(&fresh.to_pem()).unwrap();
        assert_eq!(again.jwk(), fresh.jwk());
    }

    #[test]
    fn refuses_keys_that_do_not_parse() {
        assert!(DpopKey::from_pem("not a key").is_none());
        // The public key of another key.
        let other = DpopKey::generate().unwrap().to_pem();
        let mine = CLI_PEM.lines().collect::<Vec<_>>();
        let theirs = other.lines().collect::<Vec<_>>();
        let mixed = format!(
            "{}\n{}\n{}\n{}\n{}\n",
            mine[0], mine[1], theirs[2], theirs[3], mine[4]
        );
        assert!(DpopKey::from_pem(&mixed).is_none());
    }

    #[test]
    fn proof_is_a_three_part_es256_jwt() {
        let key = DpopKey::from_pem(CLI_PEM).unwrap();
        let p = key
            .proof("https://us-east-1.signin.aws.amazon.com/v1/token", 1, "j")
            .unwrap();
        let parts: Vec<&str> = p.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(base64_decode(parts[2], true).unwrap().len(), 64);
        let claims = String::from_utf8(base64_decode(parts[1], true).unwrap()).unwrap();
        assert_eq!(
            claims,
            r#"{"htm":"POST","htu":"https://us-east-1.signin.aws.amazon.com/v1/token","iat":1,"jti":"j"}"#
        );
    }
}
