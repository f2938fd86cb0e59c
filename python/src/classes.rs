//! How Python gets a provider: `get_llm_provider(name)` (every name of the crate's
//! registry), and the five classes to build one directly with its settings. Each
//! keeps its recipe (`Provider::new`), to build it again in a forked child.

use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::convert::from_python;
use crate::core::{
    AnthropicProvider, ErrorKind, FinishReason, LlmStreamProvider, MockProvider, OllamaProvider,
    OpenAiProvider, OpenAiResponsesProvider, ProviderOptions, Registry,
};
use crate::errors::invalid;
use crate::provider::{Provider, Recipe};

/// The names `get_llm_provider` knows, from the crate's registry.
#[pyfunction]
pub(crate) fn provider_names() -> Vec<String> {
    Registry::builtin()
        .names()
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// The provider registered as `name`, configured from the environment (API keys,
/// base URLs). `endpoints` replaces the environment's base URL (several: a pool);
/// `connect_timeout` is in seconds.
#[pyfunction]
#[pyo3(signature = (name, *, endpoints = None, connect_timeout = None))]
pub(crate) fn get_llm_provider(
    py: Python<'_>,
    name: &str,
    endpoints: Option<Vec<String>>,
    connect_timeout: Option<f64>,
) -> PyResult<Provider> {
    let mut options = ProviderOptions::default();
    if let Some(endpoints) = endpoints {
        options = options.endpoints(endpoints);
    }
    if let Some(secs) = connect_timeout {
        options = options.connect_timeout(seconds(py, "connect_timeout", secs)?);
    }
    let name = name.to_owned();
    let recipe: Recipe = Arc::new(move || Registry::builtin().create_with(&name, &options));
    Provider::new(py, recipe)
}

fn seconds(py: Python<'_>, key: &str, secs: f64) -> PyResult<Duration> {
    if !secs.is_finite() || secs <= 0.0 || secs > 1e9 {
        return Err(invalid(
            py,
            format!("{key} must be a positive number of seconds, not {secs}"),
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// The settings every HTTP provider's class takes besides its address and key.
struct HttpSettings {
    default_model: Option<String>,
    connect_timeout: Option<Duration>,
    max_retries: Option<u32>,
}

impl HttpSettings {
    fn new(
        py: Python<'_>,
        default_model: Option<String>,
        connect_timeout: Option<f64>,
        max_retries: Option<u32>,
    ) -> PyResult<HttpSettings> {
        Ok(HttpSettings {
            default_model,
            connect_timeout: connect_timeout
                .map(|s| seconds(py, "connect_timeout", s))
                .transpose()?,
            max_retries,
        })
    }
}

/// A builder with `settings` applied, through the setters every HTTP provider's
/// builder has.
macro_rules! with_settings {
    ($builder:expr, $settings:expr) => {{
        let mut builder = $builder;
        let settings: &HttpSettings = $settings;
        if let Some(model) = &settings.default_model {
            builder = builder.default_model(model.clone());
        }
        if let Some(limit) = settings.connect_timeout {
            builder = builder.connect_timeout(limit);
        }
        if let Some(retries) = settings.max_retries {
            builder = builder.max_retries(retries);
        }
        builder
    }};
}

/// An OpenAI-style provider class: `(api_key=None, base_url=None, *, default_model,
/// connect_timeout, max_retries)`; what is not given comes from the environment.
macro_rules! keyed_class {
    ($class:ident, $py_name:literal, $rust:ident, $doc:literal) => {
        #[doc = $doc]
        #[pyclass(extends = Provider, frozen, module = "theory_llm", name = $py_name)]
        pub(crate) struct $class;

        #[pymethods]
        impl $class {
            #[new]
            #[pyo3(signature = (api_key = None, base_url = None, *, default_model = None, connect_timeout = None, max_retries = None))]
            fn new(
                py: Python<'_>,
                api_key: Option<String>,
                base_url: Option<String>,
                default_model: Option<String>,
                connect_timeout: Option<f64>,
                max_retries: Option<u32>,
            ) -> PyResult<PyClassInitializer<Self>> {
                let settings = HttpSettings::new(py, default_model, connect_timeout, max_retries)?;
                let recipe: Recipe = Arc::new(move || {
                    let mut builder = with_settings!($rust::builder_from_env(), &settings);
                    if let Some(key) = &api_key {
                        builder = builder.api_key(key.clone());
                    }
                    if let Some(url) = &base_url {
                        builder = builder.base_url(url.clone());
                    }
                    let llm: Box<dyn LlmStreamProvider> = Box::new(builder.build()?);
                    Ok(llm)
                });
                Ok(PyClassInitializer::from(Provider::new(py, recipe)?).add_subclass($class))
            }
        }
    };
}

keyed_class!(
    OpenAIClass,
    "OpenAIProvider",
    OpenAiProvider,
    "OpenAI's Chat Completions, and every server that speaks it (llama.cpp, vLLM, ...)."
);
keyed_class!(
    OpenAIResponsesClass,
    "OpenAIResponsesProvider",
    OpenAiResponsesProvider,
    "OpenAI's Responses API."
);
keyed_class!(
    AnthropicClass,
    "AnthropicProvider",
    AnthropicProvider,
    "Anthropic's Messages API."
);

/// Ollama: `(host=None, *, default_model, connect_timeout, max_retries)`; the host
/// defaults to `OLLAMA_HOST`, else `http://localhost:11434`.
#[pyclass(extends = Provider, frozen, module = "theory_llm", name = "OllamaProvider")]
pub(crate) struct OllamaClass;

#[pymethods]
impl OllamaClass {
    #[new]
    #[pyo3(signature = (host = None, *, default_model = None, connect_timeout = None, max_retries = None))]
    fn new(
        py: Python<'_>,
        host: Option<String>,
        default_model: Option<String>,
        connect_timeout: Option<f64>,
        max_retries: Option<u32>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let settings = HttpSettings::new(py, default_model, connect_timeout, max_retries)?;
        let recipe: Recipe = Arc::new(move || {
            let mut builder = with_settings!(OllamaProvider::builder_from_env(), &settings);
            if let Some(host) = &host {
                builder = builder.host(host.clone());
            }
            let llm: Box<dyn LlmStreamProvider> = Box::new(builder.build()?);
            Ok(llm)
        });
        Ok(PyClassInitializer::from(Provider::new(py, recipe)?).add_subclass(OllamaClass))
    }
}

/// The mock: no network, no cost, deterministic; scripted with keywords.
#[pyclass(extends = Provider, frozen, module = "theory_llm", name = "MockProvider")]
pub(crate) struct MockClass;

#[pymethods]
impl MockClass {
    #[new]
    #[pyo3(signature = (*, reply = None, chunks = None, json = None, tool_calls = None, refusal = None, reasoning = None, delay = None, finish_reason = None, tokens = None, report_usage = true, fail_after = None, default_model = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        reply: Option<String>,
        chunks: Option<Vec<String>>,
        json: Option<Bound<'_, PyAny>>,
        tool_calls: Option<Vec<Bound<'_, PyAny>>>,
        refusal: Option<String>,
        reasoning: Option<Vec<String>>,
        delay: Option<f64>,
        finish_reason: Option<String>,
        tokens: Option<(u64, u64)>,
        report_usage: bool,
        fail_after: Option<(usize, String, String)>,
        default_model: Option<String>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let mut builder = MockProvider::builder().report_usage(report_usage);
        if let Some(model) = default_model {
            builder = builder.default_model(model);
        }
        if let Some(text) = reply {
            builder = builder.reply(text);
        }
        if let Some(chunks) = chunks {
            builder = builder.chunks(chunks);
        }
        if let Some(value) = json {
            builder =
                builder.json(from_python(&value, "json").map_err(|e| invalid(py, e.to_string()))?);
        }
        for call in tool_calls.iter().flatten() {
            let (name, arguments) = mock_call(py, call)?;
            builder = builder.tool_call(name, arguments);
        }
        if let Some(words) = refusal {
            builder = builder.refusal(words);
        }
        if let Some(chunks) = reasoning {
            builder = builder.reasoning(chunks);
        }
        if let Some(secs) = delay {
            if !secs.is_finite() || !(0.0..=1e9).contains(&secs) {
                return Err(invalid(
                    py,
                    format!("delay must be a number of seconds, not {secs}"),
                ));
            }
            builder = builder.delay(Duration::from_secs_f64(secs));
        }
        if let Some(reason) = finish_reason {
            builder = builder.finish_reason(FinishReason::parse(&reason));
        }
        if let Some((tokens_in, tokens_out)) = tokens {
            builder = builder.tokens(tokens_in, tokens_out);
        }
        if let Some((n, kind, message)) = fail_after {
            let kind: ErrorKind = serde_json::from_value(serde_json::Value::String(kind.clone()))
                .map_err(|_| invalid(py, format!("fail_after: {kind:?} is not an error kind (e.g. \"network\", \"server\", \"rate_limited\")")))?;
            builder = builder.fail_after(n, kind, message);
        }
        let mock = builder.build();
        let recipe: Recipe = Arc::new(move || {
            let llm: Box<dyn LlmStreamProvider> = Box::new(mock.clone());
            Ok(llm)
        });
        Ok(PyClassInitializer::from(Provider::new(py, recipe)?).add_subclass(MockClass))
    }
}

/// `{"name", "arguments"}` (or a `(name, arguments)` pair) for the mock to call.
fn mock_call(py: Python<'_>, call: &Bound<'_, PyAny>) -> PyResult<(String, serde_json::Value)> {
    let (name, arguments) = if let Ok(d) = call.cast::<PyDict>() {
        (d.get_item("name")?, d.get_item("arguments")?)
    } else if let Ok(t) = call.cast::<PyTuple>() {
        (t.get_item(0).ok(), t.get_item(1).ok())
    } else {
        (None, None)
    };
    let Some(name) = name.and_then(|n| n.extract::<String>().ok()) else {
        return Err(invalid(
            py,
            "tool_calls: each is {\"name\": str, \"arguments\": dict}",
        ));
    };
    let arguments = match arguments {
        Some(a) => {
            from_python(&a, "tool_calls arguments").map_err(|e| invalid(py, e.to_string()))?
        }
        None => serde_json::json!({}),
    };
    Ok((name, arguments))
}
