//! `OLLAMA_HOST`, configuration, builder settings and keep-alive.

use super::*;

fn host(raw: &str) -> String {
    parse_host(raw, "OLLAMA_HOST").unwrap_or_else(|e| panic!("{raw:?}: {e}"))
}

#[test]
fn hosts_are_read_as_ollama_reads_them() {
    let cases = [
        ("", "http://localhost:11434"),
        ("   ", "http://localhost:11434"),
        ("localhost", "http://localhost:11434"),
        ("1.2.3.4", "http://1.2.3.4:11434"),
        ("1.2.3.4:1234", "http://1.2.3.4:1234"),
        ("example.com", "http://example.com:11434"),
        ("example.com:1234", "http://example.com:1234"),
        (":1234", "http://127.0.0.1:1234"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("0.0.0.0:1234", "http://127.0.0.1:1234"),
        ("[::]", "http://[::1]:11434"),
        ("[::]:1234", "http://[::1]:1234"),
        ("[::1]", "http://[::1]:11434"),
        ("[::1]:8080", "http://[::1]:8080"),
        ("::1", "http://[::1]:11434"),
        ("[fe80::1]:99", "http://[fe80::1]:99"),
        (" 1.2.3.4 ", "http://1.2.3.4:11434"),
        ("\"1.2.3.4\"", "http://1.2.3.4:11434"),
        (" \" 1.2.3.4 \" ", "http://1.2.3.4:11434"),
        ("'1.2.3.4'", "http://1.2.3.4:11434"),
        ("http://1.2.3.4", "http://1.2.3.4:80"),
        ("http://1.2.3.4:4321", "http://1.2.3.4:4321"),
        ("HTTP://gpu-box:11434/", "http://gpu-box:11434"),
        ("https://1.2.3.4", "https://1.2.3.4:443"),
        ("https://1.2.3.4:4321", "https://1.2.3.4:4321"),
        ("https://0.0.0.0:4321", "https://127.0.0.1:4321"),
        (
            "https://example.com/ollama",
            "https://example.com:443/ollama",
        ),
        (
            "https://example.com/ollama/",
            "https://example.com:443/ollama",
        ),
        ("http://localhost:11434/", "http://localhost:11434"),
        ("localhost:11434//", "http://localhost:11434"),
        ("gpu-box/prefix/v2/", "http://gpu-box:11434/prefix/v2"),
        ("my_host.lan", "http://my_host.lan:11434"),
        ("ollama.com", "https://ollama.com:443"),
    ];
    for (raw, want) in cases {
        assert_eq!(host(raw), want, "{raw:?}");
    }
}

#[test]
fn a_password_in_the_host_is_never_shown() {
    let b = OllamaProvider::builder().host("http://admin:hunter2-secret@gpu-box:11434");
    assert!(!format!("{b:?}").contains("hunter2"), "{b:?}");
    let err = b.build().unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(err.to_string().contains("admin:[REDACTED]@"), "{err}");
}

#[test]
fn bad_hosts_are_invalid_requests_naming_the_source_and_value() {
    let bad = [
        "localhost:99999",
        "localhost:0",
        "localhost:",
        "localhost:abc",
        ":-1",
        "[::1",
        "[::1]x",
        "[nope]:1",
        "::1:zz",
        "unix:///tmp/ollama.sock",
        "ftp://host",
        "host name",
        "user:pw@host",
        "http://host?x=1",
        "bad$host",
        "-host",
    ];
    for raw in bad {
        let err = parse_host(raw, "OLLAMA_HOST").expect_err(raw);
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{raw}");
        let msg = err.to_string();
        assert!(msg.contains("OLLAMA_HOST"), "{msg}");
        // The value is quoted, but never a password (issue 24: a host without a scheme
        // showed it).
        let shown = raw.replace("user:pw@", "user:[REDACTED]@");
        assert!(msg.contains(shown.trim()), "{msg}");
        assert!(
            msg.contains("127.0.0.1:11434"),
            "says what to use instead: {msg}"
        );
    }
}

#[test]
fn env_config_reads_ollama_host() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    let p = OllamaProvider::from_lookup(env(&[])).unwrap();
    assert_eq!(p.host(), OllamaProvider::DEFAULT_HOST);
    assert_eq!(p.default_model(), "qwen2.5:0.5b");
    let p = OllamaProvider::from_lookup(env(&[("OLLAMA_HOST", "0.0.0.0:18081")])).unwrap();
    assert_eq!(p.host(), "http://127.0.0.1:18081");
    let p = OllamaProvider::from_lookup(env(&[("OLLAMA_HOST", "  ")])).unwrap();
    assert_eq!(p.host(), OllamaProvider::DEFAULT_HOST);
    let err = OllamaProvider::from_lookup(env(&[("OLLAMA_HOST", "localhost:99999")])).unwrap_err();
    assert!(
        err.to_string().contains("OLLAMA_HOST 'localhost:99999'"),
        "{err}"
    );
    // Set in code, the message does not blame the environment.
    let err = OllamaProvider::builder()
        .host("localhost:99999")
        .build()
        .unwrap_err();
    assert!(!err.to_string().contains("OLLAMA_HOST '"), "{err}");
    assert!(
        err.to_string().contains("the host 'localhost:99999'"),
        "{err}"
    );
}

#[test]
fn builder_settings_and_errors() {
    let p = OllamaProvider::builder()
        .host("[::1]:8080")
        .default_model("smollm2")
        .keep_alive(Duration::from_secs(90))
        .option("num_ctx", 4096)
        .max_frame_bytes(1024)
        .idle_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    assert_eq!(p.host(), "http://[::1]:8080");
    assert_eq!(p.default_model(), "smollm2");
    let settings = &p.http.shared.settings;
    assert_eq!(p.http.dialect().keep_alive, Some(serde_json::json!(90)));
    assert_eq!(settings.max_frame_bytes, 1024);
    assert_eq!(settings.timeouts.idle, Some(Duration::from_secs(5)));
    assert_eq!(
        settings.timeouts.first_chunk,
        Some(crate::kit::settings::DEFAULT_FIRST_CHUNK_TIMEOUT)
    );
    let dbg = format!("{p:?}");
    assert!(
        dbg.contains("[::1]:8080") && dbg.contains("num_ctx") && dbg.contains("smollm2"),
        "{dbg}"
    );
    let clone = p.clone();
    assert!(std::sync::Arc::ptr_eq(&clone.http.shared, &p.http.shared));

    for b in [
        OllamaProvider::builder().default_model(" "),
        OllamaProvider::builder().max_frame_bytes(0),
        OllamaProvider::builder().keep_alive("5 minutes"),
        OllamaProvider::builder().option("", 1),
        OllamaProvider::builder().host("localhost:0"),
    ] {
        assert_eq!(b.build().unwrap_err().kind(), ErrorKind::InvalidRequest);
    }
    assert_eq!(
        OllamaProvider::new().unwrap().host(),
        "http://localhost:11434"
    );
}

#[test]
fn keep_alive_takes_durations_and_ollamas_syntax() {
    let wire = |k: KeepAlive| k.to_wire().map_err(|e| e.to_string());
    assert_eq!(
        wire(Duration::from_secs(300).into()),
        Ok(serde_json::json!(300))
    );
    assert_eq!(
        wire(Duration::from_millis(1500).into()),
        Ok(serde_json::json!(1.5))
    );
    assert_eq!(wire(Duration::ZERO.into()), Ok(serde_json::json!(0)));
    assert_eq!(wire(KeepAlive::Forever), Ok(serde_json::json!(-1)));
    // Whole seconds go as numbers (Ollama rejects the string "-1").
    assert_eq!(wire("-1".into()), Ok(serde_json::json!(-1)));
    assert_eq!(wire(" 300 ".into()), Ok(serde_json::json!(300)));
    assert_eq!(wire("0".into()), Ok(serde_json::json!(0)));
    for ok in [
        "5m", "1h30m", "90s", "1.5h", "-1m", "+5m", "300ms", "2us", "2µs", ".5s",
    ] {
        assert_eq!(wire(ok.into()), Ok(serde_json::json!(ok)), "{ok}");
    }
    for bad in ["", "5 m", "1d", "m", "1.2.3s", "forever", "5m3"] {
        let err = wire(bad.into()).unwrap_err();
        assert!(
            err.contains("keep_alive") && err.contains("5m"),
            "{bad}: {err}"
        );
    }
}
