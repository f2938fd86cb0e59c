//! SigV4 against AWS's published test suite (aws-sig-v4-test-suite, as the AWS SDKs
//! carry it: credentials `AKIDEXAMPLE`, region `us-east-1`, service `service`,
//! 2015-08-30T12:36:00Z), RFC 4231's HMAC-SHA256 vectors, and a Bedrock request signed
//! by botocore.

use std::time::{Duration, UNIX_EPOCH};

use crate::providers::bedrock::sigv4::{
    amz_date, authorization, canonical_request, hex, hmac, Credentials, Signing,
};

const DATE: &str = "20150830T123600Z";
const HOST: &str = "example.amazonaws.com";

fn suite_credentials(token: Option<&str>) -> Credentials {
    Credentials {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        session_token: token.map(str::to_owned),
    }
}

/// The suite's session token (post-sts-token).
const STS_TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

struct Case {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    query: &'static [(&'static str, &'static str)],
    /// Besides host and x-amz-date.
    headers: &'static [(&'static str, &'static str)],
    body: &'static str,
    token: Option<&'static str>,
    signed_headers: &'static str,
    signature: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "get-vanilla",
        method: "GET",
        path: "/",
        query: &[],
        headers: &[],
        body: "",
        token: None,
        signed_headers: "host;x-amz-date",
        signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    },
    Case {
        name: "get-unreserved",
        method: "GET",
        path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        query: &[],
        headers: &[],
        body: "",
        token: None,
        signed_headers: "host;x-amz-date",
        signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
    },
    Case {
        name: "get-utf8",
        method: "GET",
        path: "/ሴ",
        query: &[],
        headers: &[],
        body: "",
        token: None,
        signed_headers: "host;x-amz-date",
        signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
    },
    Case {
        name: "get-vanilla-query-order-key-case",
        method: "GET",
        path: "/",
        query: &[("Param2", "value2"), ("Param1", "value1")],
        headers: &[],
        body: "",
        token: None,
        signed_headers: "host;x-amz-date",
        signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    },
    Case {
        name: "get-vanilla-query-unreserved",
        method: "GET",
        path: "/",
        query: &[(
            "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        )],
        headers: &[],
        body: "",
        token: None,
        signed_headers: "host;x-amz-date",
        signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
    },
    Case {
        name: "get-vanilla-utf8-query",
        method: "GET",
        path: "/",
        query: &[("ሴ", "bar")],
        headers: &[],
        body: "",
        token: None,
        signed_headers: "host;x-amz-date",
        signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
    },
    Case {
        name: "get-header-key-duplicate",
        method: "GET",
        path: "/",
        query: &[],
        headers: &[
            ("My-Header1", "value2"),
            ("My-Header1", "value2"),
            ("My-Header1", "value1"),
        ],
        body: "",
        token: None,
        signed_headers: "host;my-header1;x-amz-date",
        signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
    },
    Case {
        name: "get-header-value-trim",
        method: "GET",
        path: "/",
        query: &[],
        headers: &[("My-Header1", " value1"), ("My-Header2", "\"a   b   c\"")],
        body: "",
        token: None,
        signed_headers: "host;my-header1;my-header2;x-amz-date",
        signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
    },
    Case {
        name: "post-vanilla",
        method: "POST",
        path: "/",
        query: &[],
        headers: &[],
        body: "",
        token: None,
        signed_headers: "host;x-amz-date",
        signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
    },
    Case {
        name: "post-header-key-sort",
        method: "POST",
        path: "/",
        query: &[],
        headers: &[("My-Header1", "value1")],
        body: "",
        token: None,
        signed_headers: "host;my-header1;x-amz-date",
        signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
    },
    Case {
        name: "post-header-value-case",
        method: "POST",
        path: "/",
        query: &[],
        headers: &[("My-Header1", "VALUE1")],
        body: "",
        token: None,
        signed_headers: "host;my-header1;x-amz-date",
        signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
    },
    Case {
        name: "post-vanilla-query",
        method: "POST",
        path: "/",
        query: &[("Param1", "value1")],
        headers: &[],
        body: "",
        token: None,
        signed_headers: "host;x-amz-date",
        signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
    },
    Case {
        name: "post-vanilla-query-nonunreserved",
        method: "POST",
        path: "/",
        query: &[("@#$%^", ""), ("+", "/,?><`\";:\\|][{}")],
        headers: &[],
        body: "",
        token: None,
        signed_headers: "host;x-amz-date",
        signature: "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e",
    },
    Case {
        name: "post-x-www-form-urlencoded",
        method: "POST",
        path: "/",
        query: &[],
        headers: &[("Content-Type", "application/x-www-form-urlencoded")],
        body: "Param1=value1",
        token: None,
        signed_headers: "content-type;host;x-amz-date",
        signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
    },
    Case {
        name: "post-x-www-form-urlencoded-parameters",
        method: "POST",
        path: "/",
        query: &[],
        headers: &[(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=utf8",
        )],
        body: "Param1=value1",
        token: None,
        signed_headers: "content-type;host;x-amz-date",
        signature: "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe",
    },
    Case {
        name: "post-sts-header-before",
        method: "POST",
        path: "/",
        query: &[],
        headers: &[("X-Amz-Security-Token", STS_TOKEN)],
        body: "",
        token: Some(STS_TOKEN),
        signed_headers: "host;x-amz-date;x-amz-security-token",
        signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
    },
];

#[test]
fn the_published_test_suite_signs_as_aws_says() {
    for case in CASES {
        let mut headers = vec![
            ("Host".to_owned(), HOST.as_bytes().to_vec()),
            ("X-Amz-Date".to_owned(), DATE.as_bytes().to_vec()),
        ];
        headers.extend(
            case.headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec())),
        );
        let query: Vec<(String, String)> = case
            .query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let signing = Signing {
            method: case.method,
            path: case.path,
            query: &query,
            headers: &headers,
            body: case.body.as_bytes(),
            region: "us-east-1",
            service: "service",
            amz_date: DATE,
        };
        let want = format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders={}, Signature={}",
            case.signed_headers, case.signature
        );
        assert_eq!(
            authorization(&signing, &suite_credentials(case.token)),
            want,
            "{}",
            case.name
        );
    }
}

#[test]
fn the_canonical_request_is_the_suites() {
    // post-x-www-form-urlencoded's .creq, line for line.
    let headers = vec![
        (
            "Content-Type".to_owned(),
            b"application/x-www-form-urlencoded".to_vec(),
        ),
        ("Host".to_owned(), HOST.as_bytes().to_vec()),
        ("X-Amz-Date".to_owned(), DATE.as_bytes().to_vec()),
    ];
    let signing = Signing {
        method: "POST",
        path: "/",
        query: &[],
        headers: &headers,
        body: b"Param1=value1",
        region: "us-east-1",
        service: "service",
        amz_date: DATE,
    };
    let (canonical, signed) = canonical_request(&signing);
    assert_eq!(
        canonical,
        "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"
    );
    assert_eq!(signed, "content-type;host;x-amz-date");
}

#[test]
fn hmac_sha256_matches_rfc_4231() {
    // Test case 1, and test case 6 (a key longer than the block).
    assert_eq!(
        hex(&hmac(&[0x0b; 20], b"Hi There")),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    );
    assert_eq!(
        hex(&hmac(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First"
        )),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
}

#[test]
fn dates_are_utc_in_the_amz_format() {
    let at = |secs: u64| amz_date(UNIX_EPOCH + Duration::from_secs(secs));
    assert_eq!(at(1_440_938_160), "20150830T123600Z");
    assert_eq!(at(0), "19700101T000000Z");
    assert_eq!(at(951_782_400), "20000229T000000Z");
    assert_eq!(at(4_102_444_799), "20991231T235959Z");
}

#[test]
fn credentials_never_show_their_secrets() {
    let shown = format!("{:?}", suite_credentials(Some(STS_TOKEN)));
    assert!(shown.contains("AKIDEXAMPLE"), "{shown}");
    assert!(
        !shown.contains("EXAMPLEKEY") && !shown.contains("AQoDYXdz"),
        "{shown}"
    );
}

/// A ConverseStream request as the provider signs it, against botocore 1.40's
/// `SigV4Auth` on the same request (service `bedrock`, region `us-west-2`, a session
/// token, 2025-01-02T03:04:05Z): the model id's `:` is sent as `%3A` and signed as
/// `%253A`, as AWS signs every service's paths but S3's.
#[test]
fn a_bedrock_request_is_signed_as_botocore_signs_it() {
    use crate::kit::{Api, Dialect};
    use crate::providers::bedrock::{BedrockSettings, Converse};
    use crate::request::ChatRequest;

    let settings = BedrockSettings {
        region: Some("us-west-2".into()),
        access_key: Some((
            "AKIDEXAMPLE".into(),
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        )),
        session_token: Some("FwoGZXIvYXdzEXAMPLESESSIONTOKEN0123456789".into()),
    };
    let setup = crate::kit::Setup {
        description: &crate::providers::bedrock::DESCRIPTION,
        shown_base_url: String::new(),
        base_url: String::new(),
    };
    let dialect = Converse::new(settings, &setup).unwrap();
    let model = "anthropic.claude-3-5-haiku-20241022-v1:0";
    let request = dialect.request(&ChatRequest::new("Hello"), model).unwrap();
    assert_eq!(
        request.body(),
        br#"{"messages":[{"role":"user","content":[{"text":"Hello"}]}]}"#
    );
    let url = format!(
        "https://bedrock-runtime.us-west-2.amazonaws.com{}",
        request.path()
    );
    let at = UNIX_EPOCH + Duration::from_secs(1_735_787_045);
    let signed = dialect.sign_at(request, &url, at).unwrap();
    let header = |name: &str| {
        signed
            .headers()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    };
    assert_eq!(header("x-amz-date").as_deref(), Some("20250102T030405Z"));
    assert_eq!(
        header("authorization").as_deref(),
        Some("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250102/us-west-2/bedrock/aws4_request, SignedHeaders=accept;content-type;host;x-amz-date;x-amz-security-token, Signature=3490143f93bd289aec5436278557bae57f32196a0fa84d6ed7c3c6374bd40cf0")
    );
    // Its secrets stay out of Debug.
    let shown = format!("{dialect:?} {signed:?}");
    assert!(
        !shown.contains("EXAMPLEKEY") && !shown.contains("EXAMPLESESSION"),
        "{shown}"
    );
}
