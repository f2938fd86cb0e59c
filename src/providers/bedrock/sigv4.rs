//! AWS Signature Version 4, for requests to Bedrock with an access key: the canonical
//! request over the method, the path, the query, the headers and the body's hash; the
//! string to sign with the date and the credential scope; the signing key derived from
//! the secret key; the `Authorization` header. Checked against AWS's published test
//! suite (`tests/sigv4.rs`).
//!
//! The path is encoded once more as it is signed: a path as sent (`/model/a%3A0/…`,
//! already percent-encoded) is signed as `/model/a%253A0/…`, as AWS requires of every
//! service but S3 ("each path segment must be URI-encoded twice"); given a raw path (the
//! test suite's `/ሴ`) it is encoded once. No path normalization: the crate's paths have
//! no `.` or `//` segments.
//!
//! Why not the `aws-sigv4` crate: its releases need Rust 1.94 (the crate's MSRV is
//! 1.85) and bring the AWS runtime's types; this is the algorithm alone, ~150 lines.

use std::fmt::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

/// The algorithm's name, as the `Authorization` header and the string to sign give it.
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// AWS credentials: an access key, and a session token for temporary ones.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Credentials {
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: String,
    pub(crate) session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[REDACTED]")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

/// What is signed: a request, its headers (`host` and `x-amz-date` among them, and
/// `x-amz-security-token` with a session token), where and when.
#[derive(Debug)]
pub(crate) struct Signing<'a> {
    pub(crate) method: &'a str,
    /// The path, as sent (or raw): it is percent-encoded as it is signed.
    pub(crate) path: &'a str,
    /// The query's pairs, not encoded.
    pub(crate) query: &'a [(String, String)],
    /// Every header to sign, names in any case; a name given twice has its values
    /// joined with commas, in order.
    pub(crate) headers: &'a [(String, Vec<u8>)],
    pub(crate) body: &'a [u8],
    pub(crate) region: &'a str,
    pub(crate) service: &'a str,
    /// `YYYYMMDD'T'HHMMSS'Z'`, as the `x-amz-date` header gives it.
    pub(crate) amz_date: &'a str,
}

/// The `Authorization` header's value for `request`, signed with `credentials`.
pub(crate) fn authorization(request: &Signing<'_>, credentials: &Credentials) -> String {
    let (canonical, signed_headers) = canonical_request(request);
    let date = request.amz_date.get(..8).unwrap_or(request.amz_date);
    let scope = format!("{date}/{}/{}/aws4_request", request.region, request.service);
    let to_sign = format!(
        "{ALGORITHM}\n{}\n{scope}\n{}",
        request.amz_date,
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(
        format!("AWS4{}", credentials.secret_access_key).as_bytes(),
        date.as_bytes(),
    );
    for part in [request.region, request.service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex(&hmac(&key, to_sign.as_bytes()));
    format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        credentials.access_key_id
    )
}

/// The canonical request, and the list of signed headers.
pub(crate) fn canonical_request(request: &Signing<'_>) -> (String, String) {
    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, value) in request.headers {
        let name = name.trim().to_ascii_lowercase();
        let value = canonical_value(value);
        match headers.iter_mut().find(|(known, _)| *known == name) {
            Some((_, joined)) => {
                joined.push(',');
                joined.push_str(&value);
            }
            None => headers.push((name, value)),
        }
    }
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    let signed: Vec<&str> = headers.iter().map(|(name, _)| name.as_str()).collect();
    let signed = signed.join(";");
    let mut query: Vec<(String, String)> = request
        .query
        .iter()
        .map(|(k, v)| (encode(k, false), encode(v, false)))
        .collect();
    query.sort();
    let query: Vec<String> = query.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut canonical = format!(
        "{}\n{}\n{}\n",
        request.method,
        encode(request.path, true),
        query.join("&")
    );
    for (name, value) in &headers {
        let _ = writeln!(canonical, "{name}:{value}");
    }
    let _ = write!(
        canonical,
        "\n{signed}\n{}",
        hex(&Sha256::digest(request.body))
    );
    (canonical, signed)
}

/// A header's value trimmed, its runs of spaces made one (the suite's
/// `get-header-value-trim`).
fn canonical_value(value: &[u8]) -> String {
    let text = String::from_utf8_lossy(value);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` percent-encoded but for the unreserved characters (`A-Z a-z 0-9 - . _ ~`) and,
/// in a path, `/`.
fn encode(text: &str, path: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~')
            || (path && byte == b'/')
        {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// HMAC-SHA256 (RFC 2104) of `message` with `key`.
pub(crate) fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |with: u8| block.map(|b| b ^ with);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// `at` as `x-amz-date` gives it: `20150830T123600Z` (UTC).
pub(crate) fn amz_date(at: SystemTime) -> String {
    let secs = at
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}
