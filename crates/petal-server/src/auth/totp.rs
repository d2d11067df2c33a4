//! TOTP (RFC 6238, SHA-1, 6 digits, 30-second steps): secrets, enrolment links, QR codes, and
//! the step a code belongs to. The replay rule (a step at or before the last accepted one is
//! refused) is enforced by the single `UPDATE` in `users::accept_totp_step`.

use chrono::{DateTime, Utc};
use qrcode::QrCode;
use qrcode::render::svg;
use totp_rs::{Builder, Totp};
use zeroize::Zeroizing;

/// Step length in seconds.
const STEP: i64 = 30;

/// A new random 160-bit secret (RFC 4226's recommended length).
pub fn new_secret() -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let mut secret = Zeroizing::new(vec![0u8; 20]);
    aws_lc_rs::rand::fill(secret.as_mut_slice())
        .map_err(|_| anyhow::anyhow!("random number generator failed"))?;
    Ok(secret)
}

fn totp(secret: &[u8], account: &str) -> anyhow::Result<Totp> {
    Builder::new()
        .with_secret(secret.to_vec())
        .with_issuer(Some("Petal"))
        .with_account_name(account.to_owned())
        .with_skew(1)
        .build()
        .map_err(|e| anyhow::anyhow!("TOTP setup failed: {e}"))
}

/// What an authenticator app needs: the base32 secret, the `otpauth://` link and its QR code
/// as an SVG document.
#[derive(Debug)]
pub struct Enrolment {
    /// Base32 secret, for manual entry.
    pub secret: String,
    /// `otpauth://totp/Petal:…` link.
    pub otpauth_uri: String,
    /// The link as a QR code, SVG.
    pub qr_svg: String,
}

/// The enrolment details for `secret`, labelled with the user's `account` (their email).
pub fn enrolment(secret: &[u8], account: &str) -> anyhow::Result<Enrolment> {
    let totp = totp(secret, account)?;
    let otpauth_uri = totp.to_url()?;
    let qr_svg = QrCode::new(otpauth_uri.as_bytes())?
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    Ok(Enrolment { secret: totp.secret().to_base32(), otpauth_uri, qr_svg })
}

/// The step `code` belongs to if it is right for the current or the previous step at `now`;
/// `None` otherwise (wrong, older, or from the future).
pub fn matching_step(secret: &[u8], code: &str, now: DateTime<Utc>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret, "check").ok()?;
    let current = now.timestamp().div_euclid(STEP);
    let step = i64::try_from(totp.check(&code, u64::try_from(now.timestamp()).ok()?)?).ok()?;
    (step == current || step == current - 1).then_some(step)
}

/// The code for `step`; for tests and tools that act as an authenticator.
pub fn code_at(secret: &[u8], step: i64) -> anyhow::Result<String> {
    Ok(totp(secret, "code")?.generate(u64::try_from(step * STEP)?).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    #[test]
    fn rfc_6238_sha1_vector() {
        // RFC 6238 appendix B: secret "12345678901234567890", T = 59 s → 94287082 (8 digits);
        // the 6-digit code is its last six digits.
        let secret = b"12345678901234567890";
        assert_eq!(code_at(secret, 1).unwrap(), "287082");
        assert_eq!(matching_step(secret, "287082", at(59)), Some(1));
    }

    #[test]
    fn only_the_current_and_previous_steps_match() {
        let secret = b"12345678901234567890";
        let now = at(30 * 1000 + 12);
        let current = 1000;
        assert_eq!(matching_step(secret, &code_at(secret, current).unwrap(), now), Some(current));
        assert_eq!(
            matching_step(secret, &code_at(secret, current - 1).unwrap(), now),
            Some(current - 1)
        );
        assert_eq!(matching_step(secret, &code_at(secret, current - 2).unwrap(), now), None);
        assert_eq!(matching_step(secret, &code_at(secret, current + 1).unwrap(), now), None);
        assert_eq!(matching_step(secret, "12345", now), None);
        assert_eq!(matching_step(secret, "abcdef", now), None);
    }

    #[test]
    fn enrolment_gives_a_link_and_a_qr_code() {
        let secret = new_secret().unwrap();
        let e = enrolment(&secret, "a@acme.test").unwrap();
        assert!(
            e.otpauth_uri.starts_with("otpauth://totp/Petal:a%40acme.test?"),
            "{}",
            e.otpauth_uri
        );
        assert!(e.otpauth_uri.contains(&format!("secret={}", e.secret)));
        assert!(e.qr_svg.contains("<svg"), "{}", &e.qr_svg[..100]);
        assert!(!e.qr_svg.contains("<script"));
    }
}
