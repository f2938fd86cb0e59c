//! `--budget SPEC`: every request of the run admitted by a budget, kept in this process
//! or, with `--budget-redis URL`, shared with every process that uses the same key
//! (`--budget-key`, by default the provider's name and base URL).

use std::collections::HashMap;
use std::sync::Arc;

use theory_llm::budget::{Budget, BudgetProvider, RedisBudget};
use theory_llm::{Error, LlmStreamProvider, Registry};

use crate::args::{Args, Target};
use crate::providers::CHAIN;

/// The budgets of a run, one per key: targets with the same key share one.
#[derive(Default)]
pub(crate) struct Budgets {
    made: tokio::sync::Mutex<HashMap<String, Budget>>,
}

impl Budgets {
    /// `llm` under the run's budget for `target` (as it is without `--budget`).
    pub(crate) async fn wrap(
        &self,
        args: &Args,
        target: &Target,
        llm: Arc<dyn LlmStreamProvider>,
    ) -> Result<Arc<dyn LlmStreamProvider>, Error> {
        let Some(limits) = &args.budget else {
            return Ok(llm);
        };
        let key = args
            .budget_key
            .clone()
            .unwrap_or_else(|| default_key(args, target, &crate::registry()));
        let mut made = self.made.lock().await;
        let budget = match made.get(&key) {
            Some(budget) => budget.clone(),
            None => {
                let budget = match &args.budget_redis {
                    Some(url) => {
                        RedisBudget::new(url, &key, limits.clone())
                            .connect()
                            .await?
                    }
                    None => Budget::new(limits.clone()),
                };
                made.insert(key, budget.clone());
                budget
            }
        };
        let mut budgeted = BudgetProvider::shared(llm, budget);
        if let Some(wait) = args.budget_wait {
            budgeted = budgeted.max_wait(wait);
        }
        Ok(Arc::new(budgeted))
    }
}

/// The provider's name and base URL (`openai@https://api.openai.com/v1`): the
/// `--endpoints` given, else the base URL its environment names, else its default. A
/// `--fallback` chain's is its entries', joined.
pub(crate) fn default_key(args: &Args, target: &Target, registry: &Registry) -> String {
    if target.provider == CHAIN && !args.chain.is_empty() {
        let entries: Vec<String> = args
            .chain
            .iter()
            .map(|entry| default_key(args, entry, registry))
            .collect();
        return format!("{CHAIN}[{}]", entries.join(","));
    }
    let base = if args.endpoints.is_empty() {
        registry
            .environment(&target.provider)
            .and_then(base_from_environment)
    } else {
        Some(args.endpoints.join(","))
    };
    match base {
        Some(base) => format!("{}@{base}", target.provider),
        None => target.provider.clone(),
    }
}

/// From `KEY (…), BASE_VAR or OTHER_VAR (default URL)`: the first base variable set,
/// else the default URL.
fn base_from_environment(environment: &str) -> Option<String> {
    let (vars, rest) = environment
        .split("), ")
        .find_map(|part| part.split_once(" (default "))?;
    let set = vars.split(" or ").find_map(|var| {
        std::env::var(var.trim())
            .ok()
            .filter(|v| !v.trim().is_empty())
    });
    Some(set.unwrap_or_else(|| rest.trim_end_matches(')').to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{parse, Parsed};
    use std::ffi::OsString;

    fn args(v: &[&str]) -> Args {
        match parse(v.iter().map(OsString::from)).unwrap() {
            Parsed::Run(args) => *args,
            Parsed::Help => panic!("help"),
        }
    }

    #[test]
    fn the_default_key_is_the_provider_and_its_base_url() {
        let registry = crate::registry();
        let a = args(&["--provider", "openai", "--budget", "requests=1/s"]);
        let key = default_key(&a, &a.targets[0], &registry);
        let base = std::env::var("OPENAI_BASE_URL").unwrap_or("https://api.openai.com/v1".into());
        assert_eq!(key, format!("openai@{base}"));
        let a = args(&[
            "--provider",
            "ollama",
            "--endpoints",
            "http://a:1,http://b:2",
            "--budget",
            "concurrent=1",
        ]);
        assert_eq!(
            default_key(&a, &a.targets[0], &registry),
            "ollama@http://a:1,http://b:2"
        );
        let a = args(&["--budget", "concurrent=1"]);
        assert_eq!(default_key(&a, &a.targets[0], &registry), "mock");
        let a = args(&[
            "--provider",
            "mock,mock=m2",
            "--fallback",
            "--budget",
            "concurrent=1",
        ]);
        assert_eq!(
            default_key(&a, &a.targets[0], &registry),
            "fallback[mock,mock]"
        );
    }

    #[tokio::test]
    async fn targets_with_one_key_share_one_budget() {
        let a = args(&[
            "--provider",
            "mock",
            "--budget",
            "requests=1/m",
            "--budget-wait",
            "0",
        ]);
        let budgets = Budgets::default();
        let mock: Arc<dyn LlmStreamProvider> = Arc::new(theory_llm::MockProvider::new());
        let one = budgets.wrap(&a, &a.targets[0], mock.clone()).await.unwrap();
        let two = budgets.wrap(&a, &a.targets[0], mock).await.unwrap();
        one.chat("first".into()).await.unwrap();
        let err = two.chat("second".into()).await.unwrap_err();
        assert_eq!(err.kind(), theory_llm::ErrorKind::RateLimited);
    }
}
