//! The provider a run talks to, from the command line: one from the registry (with
//! `--endpoints`, a pool), a fallback chain of the `--provider` list (`--fallback`), a
//! replay of a recording (`--replay`), and any of them recorded (`--record`).

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use theory_llm::record::{RecordingProvider, ReplayProvider};
use theory_llm::routing::FallbackProvider;
use theory_llm::{Error, ErrorKind, LlmStreamProvider, ProviderOptions};

use crate::args::{Args, Target};
use crate::budget::Budgets;
use crate::registry;

/// The target that stands for the `--fallback` chain.
pub(crate) const CHAIN: &str = "fallback";

/// The recording a run writes (`--record`), shared by its providers; the first error
/// writing it is kept, to fail the run with.
#[derive(Clone)]
pub(crate) struct RecordFile {
    file: Arc<Mutex<File>>,
    failed: Arc<Mutex<Option<String>>>,
}

impl RecordFile {
    /// Creates (or empties) the file.
    pub(crate) fn create(path: &Path) -> Result<RecordFile, String> {
        let file = File::create(path)
            .map_err(|e| format!("--record: cannot create {}: {e}", path.display()))?;
        Ok(RecordFile {
            file: Arc::new(Mutex::new(file)),
            failed: Arc::default(),
        })
    }

    /// Why the recording is incomplete, if it is.
    pub(crate) fn failed(&self) -> Option<String> {
        self.failed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// A writer into the shared file: each exchange arrives whole, in one write.
struct Shared(RecordFile);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut file = self
            .0
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let written = file.write_all(buf).map(|()| buf.len());
        if let Err(e) = &written {
            let mut failed = self
                .0
                .failed
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            failed.get_or_insert_with(|| e.to_string());
        }
        written
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .flush()
    }
}

/// The provider for `target`, with the command line's options; recorded into `record`;
/// under the run's budget for it (`--budget`, outermost: only what it admits is sent,
/// and recorded).
pub(crate) async fn provider(
    args: &Args,
    target: &Target,
    record: Option<&RecordFile>,
    budgets: &Budgets,
) -> Result<Box<dyn LlmStreamProvider>, Error> {
    let llm: Arc<dyn LlmStreamProvider> = if let Some(path) = &args.replay {
        // The library's message, naming the flag.
        let replay = ReplayProvider::from_file(path).map_err(|e| {
            let why = e.message().strip_prefix("replay: ").unwrap_or(e.message());
            Error::new(e.kind(), format!("--replay: {why}"))
        })?;
        Arc::new(replay)
    } else if target.provider == CHAIN && !args.chain.is_empty() {
        let mut chain = FallbackProvider::builder();
        for entry in &args.chain {
            let llm: Arc<dyn LlmStreamProvider> = Arc::from(one(args, entry)?);
            chain = chain.shared_entry(llm, entry.model.as_deref().or(args.model.as_deref()));
        }
        Arc::new(chain.build()?)
    } else {
        Arc::from(one(args, target)?)
    };
    let llm: Arc<dyn LlmStreamProvider> = match record {
        Some(file) => Arc::new(RecordingProvider::shared(llm, Shared(file.clone()))),
        None => llm,
    };
    Ok(Box::new(budgets.wrap(args, target, llm).await?))
}

/// One provider of the registry, with the connect timeout and the endpoints.
fn one(args: &Args, target: &Target) -> Result<Box<dyn LlmStreamProvider>, Error> {
    let mut options = ProviderOptions::default();
    if let Some(limit) = args.connect_timeout {
        options = options.connect_timeout(limit);
    }
    if !args.endpoints.is_empty() {
        if target.provider == "mock" {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                "--endpoints: the mock provider has no endpoints",
            ));
        }
        options = options.endpoints(args.endpoints.clone());
    }
    registry().create_with(&target.provider, &options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{parse, Parsed};
    use std::ffi::OsString;
    use theory_llm::ChatRequest;

    fn args(v: &[&str]) -> Args {
        match parse(v.iter().map(OsString::from)).unwrap() {
            Parsed::Run(args) => *args,
            Parsed::Help => panic!("help"),
        }
    }

    #[tokio::test]
    async fn a_recorded_run_replays_the_same() {
        let dir = std::env::temp_dir().join(format!("hello_llm_rec_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("run.jsonl");
        let a = args(&["--provider", "mock", "--record", path.to_str().unwrap()]);
        let file = RecordFile::create(&path).unwrap();
        let llm = provider(&a, &a.targets[0], Some(&file), &Budgets::default())
            .await
            .unwrap();
        let first = llm.chat(ChatRequest::new("Hello")).await.unwrap();
        drop(llm);
        assert!(file.failed().is_none());
        let b = args(&["--replay", path.to_str().unwrap()]);
        let replay = provider(&b, &b.targets[0], None, &Budgets::default())
            .await
            .unwrap();
        let again = replay.chat(ChatRequest::new("Hello")).await.unwrap();
        assert_eq!(again.text, first.text);
        assert_eq!(again.provider, "mock");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_fallback_chain_of_the_provider_list() {
        let a = args(&["--provider", "nope,mock", "--fallback"]);
        assert_eq!(a.targets[0].provider, CHAIN);
        // An unknown provider in the chain fails when the chain is built.
        let err = provider(&a, &a.targets[0], None, &Budgets::default())
            .await
            .err()
            .unwrap();
        assert!(err.to_string().contains("unknown provider 'nope'"), "{err}");
        let a = args(&["--provider", "mock=first,mock", "--fallback"]);
        let llm = provider(&a, &a.targets[0], None, &Budgets::default())
            .await
            .unwrap();
        assert_eq!(llm.name(), "fallback");
        assert_eq!(llm.default_model(), "first");
    }
}
