//! The crate root on one screen (issue 25): what an app touches in its first hour, and
//! the area modules for the rest. The root grew from 25 names to 57 when every feature
//! added its types there; this list stops that. A name added to the root has to argue
//! for its place here (and in the CHANGELOG).

use std::collections::BTreeSet;

/// The root's items: the trait, the factory and registry, the five first providers,
/// the request, the stream and its chunk, the reply, the error.
const ROOT_ITEMS: &[&str] = &[
    "AnthropicProvider",
    "ChatReply",
    "ChatRequest",
    "ChatStream",
    "Chunk",
    "Error",
    "ErrorKind",
    "Finish",
    "FinishReason",
    "Image",
    "LlmStreamProvider",
    "Message",
    "MockProvider",
    "OllamaProvider",
    "OpenAiProvider",
    "OpenAiResponsesProvider",
    "ProviderOptions",
    "Reasoning",
    "Registry",
    "ResponseFormat",
    "Result",
    "Role",
    "Timeouts",
    "Tool",
    "ToolCall",
    "ToolChoice",
    "Usage",
    "get_llm_provider",
];

/// The root's modules: the areas, and one per provider.
const ROOT_MODULES: &[&str] = &[
    "__private",
    "agent",
    "anthropic",
    "azure_openai",
    "embed",
    "budget",
    "bedrock",
    "gemini",
    "kit",
    "mcp",
    "mock",
    "ollama",
    "openai",
    "openai_responses",
    "pricing",
    "record",
    "reply",
    "request",
    "retry",
    "routing",
    "stream",
];

/// The names `pub use` and `pub mod` put at the root, read from `src/lib.rs`: the last
/// segment of each path (or its `as` name), modules apart.
fn root_names() -> (BTreeSet<String>, BTreeSet<String>) {
    let lib = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs")).unwrap();
    let code: String = lib
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let (mut items, mut modules) = (BTreeSet::new(), BTreeSet::new());
    for statement in code.split(';') {
        // The statement from its `pub` on (attributes and other items come before).
        let statement = statement
            .lines()
            .skip_while(|l| !l.trim_start().starts_with("pub "))
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(name) = statement.strip_prefix("pub mod ") {
            modules.insert(name.trim().to_owned());
        } else if let Some(path) = statement.strip_prefix("pub use ") {
            for name in leaves(path) {
                // A re-exported module (`providers::{anthropic, …}`) is a module.
                if name.chars().next().is_some_and(char::is_lowercase) && !name.starts_with("get_")
                {
                    modules.insert(name);
                } else {
                    items.insert(name);
                }
            }
        }
    }
    (items, modules)
}

/// The names a `use` tree brings in: `a::{b, c::{d, e as f}}` gives b, d, f.
fn leaves(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let inner = &tree[open + 1..tree.rfind('}').unwrap()];
        let mut out = Vec::new();
        let (mut depth, mut start) = (0, 0);
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    out.extend(leaves(&inner[start..i]));
                    start = i + 1;
                }
                _ => {}
            }
        }
        out.extend(leaves(&inner[start..]));
        return out;
    }
    if tree.is_empty() {
        return Vec::new();
    }
    let name = match tree.split_once(" as ") {
        Some((_, alias)) => alias,
        None => tree.rsplit("::").next().unwrap(),
    };
    vec![name.trim().to_owned()]
}

#[test]
fn the_root_has_the_first_hour_names_and_no_others() {
    let (items, modules) = root_names();
    let expected: BTreeSet<String> = ROOT_ITEMS.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        items, expected,
        "the crate root changed: a new name belongs in an area module unless it argues for its place in ROOT_ITEMS"
    );
    assert!(items.len() <= 30, "{} names at the root", items.len());
    let expected: BTreeSet<String> = ROOT_MODULES.iter().map(|s| s.to_string()).collect();
    assert_eq!(modules, expected);
}

#[test]
fn the_reader_sees_what_it_checks() {
    assert_eq!(leaves("a::{b, c::{d, e as f}}"), ["b", "d", "f"]);
    let (items, modules) = root_names();
    assert!(items.contains("ChatRequest") && modules.contains("kit"));
}
