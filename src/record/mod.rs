//! Recorded streams: [`RecordingProvider`] writes each exchange of any provider to a
//! recording, and [`ReplayProvider`] serves recordings again with no network, at the
//! recorded pace or at once, so that an app's tests run against real streams offline
//! and deterministically.
//!
//! ## The format
//!
//! A recording is text, one JSON object per line, each with a `type`. An exchange is:
//!
//! ```text
//! {"type":"exchange","version":1,"provider":"openai","model":"smollm2","request":{…},"pricing":"unknown"}
//! {"type":"text","t_ms":48.2,"text":"Hel"}
//! {"type":"reasoning","t_ms":…,"text":"…"}
//! {"type":"refusal","t_ms":…,"text":"…"}
//! {"type":"tool_call_start","t_ms":…,"index":0,"id":"call_1","name":"get_weather"}
//! {"type":"tool_call_delta","t_ms":…,"index":0,"arguments":"{\"city\":"}
//! {"type":"tool_call","t_ms":…,"id":"call_1","name":"get_weather","arguments":{"city":"Paris"}}
//! {"type":"finish","t_ms":912.7,"reason":"stop","tokens_in":25,"tokens_out":8,"cached_tokens_in":24,"model":"smollm2","response_id":"chatcmpl-…","endpoint":"http://127.0.0.1:8080/v1","rate_limit":{"requests":{"limit":10000,"remaining":9999,"reset_ms":6.0}}}
//! ```
//!
//! or it ends with `{"type":"error","t_ms":…,"kind":"network","message":"…","status":502}`
//! (a stream the app dropped ends with an error of kind `cancelled`). `t_ms` is the
//! time since the call, in milliseconds. `request` is the request as sent, with the
//! model the provider used; requests hold no secrets, and error messages are recorded
//! after the provider scrubbed them. `pricing` is `"free"`, `"unknown"`, or the rates in
//! nano-USD per token (`{"input","output","cached_input","cache_write"}`), so that a
//! replay costs what the original did. A finish keeps the endpoint that served the
//! reply (password hidden) and the rate limits its headers reported, as
//! [`RateLimit`](crate::reply::RateLimit) serializes them. Exchanges follow one another; blank lines are
//! ignored.
//!
//! A replay reads a recording line by line and holds it in memory, so it takes one of
//! at most [`MAX_RECORDING_BYTES`](ReplayProvider::MAX_RECORDING_BYTES) (256 MiB) and
//! [`MAX_LINES`](ReplayProvider::MAX_LINES) (a million) lines, none longer than
//! [`MAX_LINE_BYTES`](ReplayProvider::MAX_LINE_BYTES) (64 MiB); past these it is refused.

mod lines;
mod reading;
mod recorder;
mod replay;

pub use recorder::RecordingProvider;
pub use replay::{Matching, Pace, ReplayProvider};

use crate::chunk::Chunk;
use crate::error::Result;
use crate::pricing::Pricing;
use crate::request::ChatRequest;

use lines::{pricing_json, request_json, Line, VERSION};

/// One exchange in the recording format, from its parts: `request` sent to `provider`
/// for `model`, priced `pricing`, and the stream's items with their time offsets in
/// milliseconds. For turning streams recorded by other means (a transcript of a body,
/// decoded) into recordings a [`ReplayProvider`] serves.
///
/// ```
/// use theory_llm::record::{exchange_lines, Pace, ReplayProvider};
/// use theory_llm::{ChatRequest, Chunk, Finish, FinishReason, LlmStreamProvider};
/// use theory_llm::pricing::Pricing;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> theory_llm::Result<()> {
/// let request = ChatRequest::new("Hi");
/// let items = vec![
///     (10.0, Ok(Chunk::Text("Hello!".into()))),
///     (12.0, Ok(Chunk::from(Finish::new(FinishReason::Stop).with_tokens(Some(3), Some(2))))),
/// ];
/// let recording = exchange_lines("openai", "gpt-4o-mini", &request, Pricing::Unknown, items);
/// let replay = ReplayProvider::from_str(&recording)?.pace(Pace::Instant);
/// assert_eq!(replay.chat(request).await?.text, "Hello!");
/// # Ok(())
/// # }
/// ```
pub fn exchange_lines(
    provider: &str,
    model: &str,
    request: &ChatRequest,
    pricing: Pricing,
    items: impl IntoIterator<Item = (f64, Result<Chunk>)>,
) -> String {
    let head = Line::Exchange {
        version: VERSION,
        provider: provider.to_owned(),
        model: model.to_owned(),
        request: request_json(request, model),
        pricing: pricing_json(pricing),
    };
    let mut text = head.to_json();
    text.push('\n');
    for (t_ms, item) in items {
        let line = match &item {
            Ok(chunk) => Line::of_chunk(chunk, t_ms),
            Err(error) => Line::of_error(error, t_ms),
        };
        text.push_str(&line.to_json());
        text.push('\n');
    }
    text
}
