//! A whole tool loop: the model asks for a tool, the app runs it and sends the result
//! back, and the model answers with it.
//!
//! ```text
//! cargo run --example tools                                   # on the mock
//! cargo run --example tools -- --provider openai --model gpt-4o-mini
//! cargo run --example tools -- --provider ollama --model qwen2.5:7b
//! ```

use futures::StreamExt;
use serde::Deserialize;
use serde_json::json;
use theory_llm::reply::Collector;
use theory_llm::{
    ChatRequest, Chunk, LlmStreamProvider, Message, MockProvider, Registry, Tool, ToolCall,
};

/// The tool's arguments, as its schema says.
#[derive(Debug, Deserialize)]
struct WeatherArgs {
    city: String,
}

/// The tool itself: a made-up forecast (a real app would call a weather service).
fn get_weather(args: &WeatherArgs) -> String {
    let degrees = 12 + args.city.len() % 10;
    format!("{degrees} °C and clear in {}", args.city)
}

/// Runs one call; a call this app does not know is answered as such.
fn run(call: &ToolCall) -> String {
    match call.name.as_str() {
        "get_weather" => match call.parse::<WeatherArgs>() {
            Ok(args) => get_weather(&args),
            Err(e) => format!("error: {e}"),
        },
        other => format!("error: there is no tool named {other}"),
    }
}

/// `--provider NAME` and `--model MODEL`; the mock by default, scripted to call the tool.
fn provider_and_model() -> theory_llm::Result<(Box<dyn LlmStreamProvider>, Option<String>)> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let llm: Box<dyn LlmStreamProvider> = match flag("--provider").as_deref() {
        None | Some("mock") => Box::new(
            MockProvider::builder()
                .tool_call("get_weather", json!({"city": "Paris"}))
                .build(),
        ),
        Some(name) => Registry::builtin().create(name)?,
    };
    Ok((llm, flag("--model")))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> theory_llm::Result<()> {
    let (llm, model) = provider_and_model()?;
    let weather = Tool::new(
        "get_weather",
        "The current weather in a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    );
    let mut request = ChatRequest::new("What is the weather in Paris?").tool(weather);
    if let Some(model) = model {
        request = request.model(model);
    }
    for turn in 1..=5 {
        // Stream the reply: text as it arrives, each tool call when it is complete.
        let mut stream = llm.stream_chat(request.clone());
        let mut collector = Collector::for_stream(&stream);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            match &chunk {
                Chunk::Text(text) => print!("{text}"),
                Chunk::ToolCall(call) => println!(
                    "[turn {turn}: the model calls {} {}]",
                    call.name, call.arguments
                ),
                _ => {}
            }
            collector.push(&chunk)?;
        }
        let reply = collector.finish()?;
        if reply.tool_calls.is_empty() {
            println!(
                "\n[turn {turn}: {} · {} tokens out]",
                reply.finish_reason, reply.usage.tokens_out
            );
            return Ok(());
        }
        // Run the calls, and send the results back after the assistant's turn.
        let results: Vec<Message> = reply
            .tool_calls
            .iter()
            .map(|call| {
                let result = run(call);
                println!("[turn {turn}: {} returns \"{result}\"]", call.name);
                Message::tool_result(call.id.clone(), call.name.clone(), result)
            })
            .collect();
        let next = request.message(reply.into_message());
        request = results.into_iter().fold(next, ChatRequest::message);
    }
    println!("[stopped after 5 turns]");
    Ok(())
}
