//! The MCP client (issue 28) against real servers no one here wrote, installed by
//! `scripts/mcpservers.sh` (`mcp-server-time` from PyPI, `server-everything` from npm),
//! a streamable-HTTP server on the `mcp` Python SDK (`tests/mcp/servers.py`), and
//! servers that crash, hang or answer garbage.
//!
//! The servers are found through the variables `scripts/mcpservers.sh env` prints.
//! Without them these tests say so and pass, unless `THEORY_LLM_MCP=1` or
//! `THEORY_LLM_LIVE=1` asks for them: then a missing server fails the test.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use theory_llm::agent::{Run, ToolBox, ToolSource};
use theory_llm::mcp::{McpClient, McpServer};
use theory_llm::{ChatRequest, ErrorKind, FinishReason, MockProvider};

/// The value of `var`, or `None` (the test is skipped, saying so) unless the servers
/// are required.
fn installed(var: &str) -> Option<String> {
    if let Ok(value) = std::env::var(var) {
        return Some(value);
    }
    let required = ["THEORY_LLM_MCP", "THEORY_LLM_LIVE"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|x| x == "1"));
    assert!(
        !required,
        "{var} is not set: run `set -a; eval \"$(scripts/mcpservers.sh env)\"; set +a` first"
    );
    eprintln!("skipped: {var} is not set (scripts/mcpservers.sh env)");
    None
}

fn servers_py() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/mcp/servers.py")
        .display()
        .to_string()
}

/// One of the test servers over stdio.
fn test_server(python: &str, mode: &str) -> McpServer {
    McpServer::stdio(python, [servers_py(), mode.to_owned()]).named(format!("test-{mode}"))
}

async fn call(client: &McpClient, name: &str, arguments: Value) -> theory_llm::agent::ToolOutput {
    client.call(name, arguments).await.unwrap()
}

#[tokio::test]
async fn mcp_server_time_over_stdio_in_a_run() {
    let Some(time) = installed("THEORY_LLM_MCP_TIME") else {
        return;
    };
    let client = McpServer::stdio(&time, ["--local-timezone", "UTC"])
        .named("time")
        .connect()
        .await
        .unwrap();
    let names = client.tool_names();
    assert!(
        names.contains(&"get_current_time".to_owned())
            && names.contains(&"convert_time".to_owned()),
        "{names:?}"
    );
    let now = call(
        &client,
        "get_current_time",
        json!({"timezone": "Asia/Tokyo"}),
    )
    .await;
    assert!(!now.is_error, "{now:?}");
    let parsed: Value = serde_json::from_str(&now.content).unwrap();
    assert_eq!(parsed["timezone"], "Asia/Tokyo", "{}", now.content);
    let bad = client
        .call("get_current_time", json!({"timezone": "Mars/Olympus"}))
        .await;
    match bad {
        Ok(output) => assert!(output.is_error, "{output:?}"),
        Err(e) => assert!(e.to_string().contains("'time'"), "{e}"),
    }

    // In a run: the mock calls the tool, the result goes back, the mock answers with it.
    let tools = ToolBox::new().source(client);
    let llm = MockProvider::builder()
        .tool_call("get_current_time", json!({"timezone": "Europe/Paris"}))
        .build();
    let reply = Run::new(&llm, &tools, ChatRequest::new("What time is it in Paris?"))
        .reply()
        .await
        .unwrap();
    let result = &reply.steps[0].tool_results[0];
    assert!(
        !result.is_error && result.content.contains("Europe/Paris"),
        "{result:?}"
    );
    assert!(
        reply.reply.text.contains("Europe/Paris"),
        "{}",
        reply.reply.text
    );
    assert_eq!(reply.reply.finish_reason, FinishReason::Stop);
}

#[tokio::test]
async fn server_everything_over_stdio_maps_every_kind_of_content() {
    let Some(everything) = installed("THEORY_LLM_MCP_EVERYTHING") else {
        return;
    };
    let client = McpServer::stdio("node", [everything.as_str(), "stdio"])
        .named("everything")
        .connect()
        .await
        .unwrap();
    let names = client.tool_names();
    assert!(names.len() >= 5, "{names:?}");
    let echo = call(&client, "echo", json!({"message": "hello from rust"})).await;
    assert!(echo.content.contains("hello from rust"), "{echo:?}");
    // An image is described by its type and size.
    let image_tool = names
        .iter()
        .find(|n| n.contains("image"))
        .unwrap_or_else(|| panic!("an image tool in {names:?}"));
    let image = call(&client, image_tool, json!({})).await;
    assert!(image.content.contains("[image image/png, "), "{image:?}");
    // An embedded resource is its text under a line naming it, or described.
    if let Some(resource_tool) = names.iter().find(|n| n.contains("resource-reference")) {
        let resource = call(
            &client,
            resource_tool,
            json!({"resourceType": "Text", "resourceId": 1}),
        )
        .await;
        assert!(resource.content.contains("[resource "), "{resource:?}");
    }
    // Arguments the tool's schema refuses never reach it, in a run.
    let tools = ToolBox::new().source(client);
    let llm = MockProvider::builder()
        .tool_call("echo", json!({"message": 42}))
        .build();
    let reply = Run::new(&llm, &tools, "Echo".into()).reply().await.unwrap();
    let result = &reply.steps[0].tool_results[0];
    assert!(result.is_error, "{result:?}");
    assert!(
        result.content.contains("do not match the tool's schema"),
        "{result:?}"
    );
}

/// The HTTP test server, killed when dropped.
struct HttpServer {
    child: Child,
    url: String,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const TOKEN: &str = "mcp-test-token-0123456789";

fn http_server(python: &str) -> HttpServer {
    let mut child = Command::new(python)
        .args([servers_py(), "http".into()])
        .env("MCP_TEST_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the HTTP server printed its port within 30 s");
    let port = line
        .trim()
        .strip_prefix("PORT ")
        .expect("PORT <n>")
        .to_owned();
    HttpServer {
        child,
        url: format!("http://127.0.0.1:{port}/mcp"),
    }
}

#[tokio::test]
async fn a_streamable_http_server_with_a_token_pages_and_changing_tools() {
    let Some(python) = installed("THEORY_LLM_MCP_PYTHON") else {
        return;
    };
    let server = http_server(&python);
    // Without the token: an error naming the server.
    let err = McpServer::http(&server.url).connect().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ToolServer);
    assert!(err.to_string().contains(&server.url), "{err}");
    // With a wrong one, which the error never shows.
    let wrong = "wrong-token-abcdefghijkl";
    let config = McpServer::http(&server.url).bearer_token(wrong);
    assert!(!format!("{config:?}").contains(wrong));
    let err = config.connect().await.unwrap_err();
    assert!(!err.to_string().contains(wrong), "{err}");

    let config = McpServer::http(&server.url)
        .bearer_token(TOKEN)
        .header("X-Test", "secret-header-value-123");
    let debug = format!("{config:?}");
    assert!(
        !debug.contains(TOKEN) && !debug.contains("secret-header-value"),
        "{debug}"
    );
    let client = config.connect().await.unwrap();
    // Seven tools, two to a page: every page followed.
    let mut names = client.tool_names();
    names.sort();
    assert_eq!(
        names,
        ["add", "die", "fail", "leak", "picture", "slow", "unlock"]
    );
    assert_eq!(
        call(&client, "add", json!({"a": 2, "b": 3})).await.content,
        "5"
    );
    let failed = call(&client, "fail", json!({})).await;
    assert!(
        failed.is_error && failed.content.contains("failed on purpose"),
        "{failed:?}"
    );
    let picture = call(&client, "picture", json!({})).await;
    assert!(
        picture.content.starts_with(
            "[image image/png, 12 bytes]\n[resource file:///notes.txt (text/plain)]\nhello notes"
        ),
        "{picture:?}"
    );
    assert_eq!(call(&client, "unlock", json!({})).await.content, "unlocked");
    wait_for_tool(&client, "secret").await;
}

/// Waits (bounded) until the client lists `name`: the list-changed notification may
/// arrive just after the call's result.
async fn wait_for_tool(client: &McpClient, name: &str) {
    for _ in 0..100 {
        let tools = ToolSource::tools(client).await.unwrap();
        if tools.iter().any(|t| t.name == name) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{name} never listed: {:?}", client.tool_names());
}

#[tokio::test]
async fn the_tool_list_is_refreshed_when_a_stdio_server_says_it_changed() {
    let Some(python) = installed("THEORY_LLM_MCP_PYTHON") else {
        return;
    };
    let client = test_server(&python, "stdio").connect().await.unwrap();
    assert!(!client.tool_names().contains(&"secret".to_owned()));
    // In a run: step 1 unlocks, step 2 is offered the new tool and calls it.
    let tools = ToolBox::new().source(client);
    let llm = MockProvider::builder()
        .tool_call("unlock", json!({}))
        .build();
    let reply = Run::new(&llm, &tools, "Unlock".into())
        .reply()
        .await
        .unwrap();
    assert_eq!(reply.steps[0].tool_results[0].content, "unlocked");
    let source = &tools.sources()[0];
    for _ in 0..100 {
        if source
            .tools()
            .await
            .unwrap()
            .iter()
            .any(|t| t.name == "secret")
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the list was not refreshed");
}

#[tokio::test]
async fn servers_that_crash_hang_or_answer_garbage_are_errors_naming_them() {
    let Some(python) = installed("THEORY_LLM_MCP_PYTHON") else {
        return;
    };
    let started = std::time::Instant::now();
    let err = test_server(&python, "crash").connect().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ToolServer);
    let msg = err.to_string();
    assert!(msg.contains("'test-crash'"), "{msg}");
    assert!(msg.contains("cannot open its database (scripted)"), "{msg}");

    let err = test_server(&python, "hang")
        .start_timeout(Duration::from_secs(2))
        .connect()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ToolServer);
    assert!(
        err.to_string()
            .contains("'test-hang' did not answer initialize within 2 s"),
        "{err}"
    );

    let err = test_server(&python, "garbage")
        .start_timeout(Duration::from_secs(5))
        .connect()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ToolServer);
    assert!(err.to_string().contains("'test-garbage'"), "{err}");

    let err = McpServer::stdio("/nonexistent/mcp-server", Vec::<String>::new())
        .connect()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ToolServer);
    assert!(
        err.to_string()
            .contains("'/nonexistent/mcp-server' cannot be started"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn a_call_that_hangs_or_kills_the_server_is_an_error_result_and_the_run_goes_on() {
    let Some(python) = installed("THEORY_LLM_MCP_PYTHON") else {
        return;
    };
    let client = test_server(&python, "stdio")
        .call_timeout(Duration::from_secs(1))
        .connect()
        .await
        .unwrap();
    let tools = ToolBox::new().source(client);
    let run = |tool: &str, arguments: Value| {
        let llm = MockProvider::builder().tool_call(tool, arguments).build();
        let tools = &tools;
        async move {
            let reply = Run::new(&llm, tools, "Go".into()).reply().await.unwrap();
            assert_eq!(reply.reply.finish_reason, FinishReason::Stop);
            assert_eq!(reply.steps.len(), 2, "the run went on");
            reply.steps[0].tool_results[0].clone()
        }
    };
    let slow = run("slow", json!({})).await;
    assert!(slow.is_error, "{slow:?}");
    assert!(
        slow.content
            .contains("'test-stdio' did not answer the call to slow within 1 s"),
        "{slow:?}"
    );
    // The server is still there after a call that timed out.
    assert_eq!(run("add", json!({"a": 1, "b": 2})).await.content, "3");
    let died = run("die", json!({})).await;
    assert!(
        died.is_error && died.content.contains("'test-stdio'"),
        "{died:?}"
    );
    // And gone after one that killed it: later calls say so.
    let after = run("add", json!({"a": 1, "b": 2})).await;
    assert!(
        after.is_error && after.content.contains("'test-stdio'"),
        "{after:?}"
    );
}

#[tokio::test]
async fn a_secret_of_the_server_never_reaches_the_model() {
    let Some(python) = installed("THEORY_LLM_MCP_PYTHON") else {
        return;
    };
    const SECRET: &str = "mcp-env-secret-0123456789";
    let server = test_server(&python, "stdio").env("MCP_SECRET", SECRET);
    assert!(!format!("{server:?}").contains(SECRET));
    let tools = ToolBox::new().source(server.connect().await.unwrap());
    let llm = MockProvider::builder().tool_call("leak", json!({})).build();
    let reply = Run::new(&llm, &tools, "Leak".into()).reply().await.unwrap();
    let result = &reply.steps[0].tool_results[0];
    assert_eq!(result.content, "the key is [REDACTED]");
    assert!(!reply.reply.text.contains(SECRET), "{}", reply.reply.text);
}

#[tokio::test]
async fn dropping_the_client_stops_the_server() {
    let Some(python) = installed("THEORY_LLM_MCP_PYTHON") else {
        return;
    };
    let pid_file = std::env::temp_dir().join(format!("mcp_pid_{}", std::process::id()));
    let client = test_server(&python, "stdio")
        .env("MCP_PID_FILE", pid_file.display().to_string())
        .connect()
        .await
        .unwrap();
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let proc = PathBuf::from(format!("/proc/{}", pid.trim()));
    assert!(proc.exists());
    drop(client);
    for _ in 0..100 {
        let state = std::fs::read_to_string(proc.join("status")).unwrap_or_default();
        if !proc.exists() || state.contains("State:\tZ") {
            let _ = std::fs::remove_file(&pid_file);
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server {pid} still runs after its client was dropped");
}
