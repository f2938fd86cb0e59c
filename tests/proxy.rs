//! Issue 24: in an endpoint pool, whether a proxy is used was decided once, by the
//! first endpoint: with `HTTP_PROXY` set, a loopback member listed after a remote one
//! went through the proxy (with the key), and remote members listed after a loopback
//! one bypassed it. It is decided per endpoint. A test binary of its own: it sets a
//! process-wide environment variable, which no other test may see.

use std::time::Duration;

use theory_llm::{LlmStreamProvider, OpenAiProvider};
use theory_llm_testkit::loopback::{Reply, Server, Split};

const KEY: &str = "sk-proxy-0123456789abcdefghijklmnop";

fn ok() -> Reply {
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/transcripts/llama-server/stream_include_usage.body"
    ))
    .unwrap();
    // Slow enough that concurrent requests overlap, so the pool uses every member.
    Reply::sse(body)
        .split(Split::Frames)
        .delay(Duration::from_millis(5))
}

#[tokio::test]
async fn each_pool_member_decides_on_the_proxy_for_itself() {
    // The proxy answers every request it gets as the remote server would.
    let proxy = Server::reply(ok()).await;
    std::env::set_var("HTTP_PROXY", proxy.url());
    std::env::set_var("http_proxy", proxy.url());
    std::env::remove_var("NO_PROXY");
    std::env::remove_var("no_proxy");
    let remote = "http://llm.remote.example/v1".to_owned();
    for loopback_first in [true, false] {
        let local = Server::reply(ok()).await;
        let local_base = format!("{}/v1", local.url());
        let (first, second) = if loopback_first {
            (local_base.clone(), remote.clone())
        } else {
            (remote.clone(), local_base.clone())
        };
        let llm = OpenAiProvider::builder()
            .api_key(KEY)
            .base_url(first)
            .endpoints([second])
            .build()
            .unwrap();
        let before = proxy.requests().len();
        let replies = futures::future::join_all((0..6).map(|_| llm.chat("Hello".into()))).await;
        for reply in &replies {
            assert!(reply.is_ok(), "loopback first: {loopback_first}: {reply:?}");
        }
        let proxied: Vec<String> = proxy.requests()[before..]
            .iter()
            .map(|r| r.path.clone())
            .collect();
        assert!(
            proxied.iter().all(|p| p.contains("llm.remote.example")),
            "a loopback request went through the proxy (loopback first: {loopback_first}): {proxied:?}"
        );
        assert!(
            !proxied.is_empty(),
            "the remote member went around the proxy"
        );
        assert!(
            !local.requests().is_empty(),
            "the loopback member was not used"
        );
    }
}
